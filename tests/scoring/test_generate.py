"""Greedy generation hands over each answer the step it ends, and a killed generation
resumes from the answers it kept."""

from __future__ import annotations

import pytest

from tests.scoring.tiny import tiny_llama, tiny_tokenizer
from workers.modeling.loader import Target
from workers.scoring.generate import generate_greedy
from workers.scoring.own_answers import generate_own_answers
from workers.scoring.prompts import PromptBuilder

QUESTIONS = [(f"k{i}", f"What is {i} + {i}? " * (1 + i % 3), "x") for i in range(6)]


class DictCache:
    def __init__(self) -> None:
        self.texts: dict[str, str] = {}

    def get_texts(self, keys):  # type: ignore[no-untyped-def]
        return {k: self.texts[k] for k in keys if k in self.texts}

    def put_texts(self, values) -> None:  # type: ignore[no-untyped-def]
        self.texts.update(values)


def _model_with_a_common_stop():  # type: ignore[no-untyped-def]
    """The tiny model, with a stop token that ends some rows early and not others."""
    model, tok = tiny_llama(seed=3), tiny_tokenizer()
    prompts = [tok(q)["input_ids"] for _, q, _ in QUESTIONS]
    free = generate_greedy(model, tok, prompts, max_new_tokens=12)
    ids = [tok(t, add_special_tokens=False)["input_ids"] for t in free]
    stop = ids[0][3] if len(ids[0]) > 3 else ids[0][-1]
    model.generation_config.eos_token_id = [stop]
    return model, tok, prompts


def test_each_answer_arrives_the_step_it_ends() -> None:
    model, tok, prompts = _model_with_a_common_stop()
    steps, seen, progress = [0], [], []
    hook = model.register_forward_hook(lambda *_: steps.__setitem__(0, steps[0] + 1))
    texts = generate_greedy(
        model,
        tok,
        prompts,
        max_new_tokens=12,
        max_batch=64,
        on_answer=lambda i, text: seen.append((i, text, steps[0])),
        on_progress=lambda done, total: progress.append((done, total)),
    )
    hook.remove()
    assert sorted(i for i, _, _ in seen) == list(range(len(prompts)))  # each once
    assert {i: t for i, t, _ in seen} == dict(enumerate(texts))
    assert progress == [(n, len(prompts)) for n in range(1, len(prompts) + 1)]
    assert min(step for _, _, step in seen) < steps[0]  # before its one batch ended


def test_a_killed_generation_resumes_from_the_kept_answers() -> None:
    model, tok, _ = _model_with_a_common_stop()
    target = Target(
        model=model,
        tokenizer=tok,
        name="tiny",
        model_key="tiny|0",
        dtype="float32",
        device="cpu",
        has_chat_template=True,
    )
    builder = PromptBuilder(tok)
    whole, _ = generate_own_answers(
        target, builder, QUESTIONS, max_new_tokens=12, cache=DictCache()
    )
    cache, calls = DictCache(), []

    def killed(done: int, total: int) -> None:
        calls.append(done)
        if done == 2:
            raise KeyboardInterrupt("worker killed")

    with pytest.raises(KeyboardInterrupt):
        generate_own_answers(
            target, builder, QUESTIONS, max_new_tokens=12, cache=cache, on_progress=killed
        )
    assert len(cache.texts) == 2  # kept as they ended, not at the batch's end
    again, generated = generate_own_answers(
        target, builder, QUESTIONS, max_new_tokens=12, cache=cache
    )
    assert generated == len(QUESTIONS) - 2 and again == whole


def test_the_eta_is_an_upper_bound_that_counts_down() -> None:
    model, tok, prompts = _model_with_a_common_stop()
    etas: list[float] = []
    generate_greedy(model, tok, prompts, max_new_tokens=12, max_batch=2, on_eta=etas.append)
    assert len(etas) >= 12 and all(e >= 0 for e in etas)
    assert etas[-1] < etas[0]  # fewer steps and batches left at the end than at the start


def test_the_expected_time_left_is_reported_and_ends_near_zero() -> None:
    model, tok, prompts = _model_with_a_common_stop()
    bounds: list[float] = []
    expected: list[float] = []
    generate_greedy(
        model,
        tok,
        prompts,
        max_new_tokens=12,
        max_batch=2,
        on_eta=bounds.append,
        on_expected=expected.append,
    )
    assert len(expected) == len(bounds) and all(e >= 0 for e in expected)
    assert all(e <= b + 1e-9 for e, b in zip(expected, bounds, strict=True))  # within the bound


def test_the_clock_uses_the_runaway_share_of_earlier_batches() -> None:
    from workers.scoring.generate import _Clock

    seen: dict[float, float] = {}
    for share in (0.0, 0.9):
        got: list[float] = []
        clock = _Clock(100, 0, None, got.append, rows=4)
        clock.runaway = share
        clock.ended(10)
        clock.ended(12)
        for step in range(1, 15):
            clock.step(step)
        seen[share] = got[-1]
    assert seen[0.9] > 2 * seen[0.0]  # rows still running look like runaways: the cap decides
