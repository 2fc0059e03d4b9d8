"""Fixtures: a tiny random Llama and a char-level ChatML tokenizer (tests/scoring/tiny.py)."""

from __future__ import annotations

import pytest
import torch

from app.specs.training import TrainSettings
from tests.scoring.tiny import tiny_llama, tiny_tokenizer
from workers.training import Example, ValExample


@pytest.fixture(scope="package", autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def model():
    return tiny_llama()


@pytest.fixture(scope="session")
def tok():
    return tiny_tokenizer()


def examples(n: int = 12) -> list[Example]:
    return [Example(f"what is {i} plus {i}?", f"{i} plus {i} is {2 * i}.") for i in range(n)]


def val_examples(n: int = 3) -> list[ValExample]:
    return [
        ValExample(str(i), f"what is {i} plus 1?", str(i + 1), f"{i} plus 1 is {i + 1}.")
        for i in range(n)
    ]


def settings(**kw) -> TrainSettings:
    base = dict(
        precision="float32",
        batch_size=4,
        epochs=2,
        learning_rate=1e-2,
        val_max_new_tokens=4,
        eval_every=2,
    )
    return TrainSettings(**(base | kw))


def contains(output: str, gold: str) -> bool:
    return gold in output
