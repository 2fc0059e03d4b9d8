"""The demo's calibration, measured on the packaged target: its own answers are right often
enough for SPPL to have examples, and wrong often enough for the ranking to matter.

Same path as the own-answers job (workers/jobs/own_answers.py): the packaged model loaded
with the job's default dtype, the generation prompt of PromptBuilder (its chat template),
greedy decoding with the job's max_new_tokens, the numeric judge.
"""

from __future__ import annotations

import time

import pytest

from app.demo import generate_problems
from tests.scoring.tiny import PACKAGED, TEST_MODELS

pytestmark = pytest.mark.slow
SAMPLE = 40


def test_packaged_model_answers_20_to_60_percent_of_the_demo() -> None:
    import torch

    from app.specs.jobs import OWN_ANSWER_MAX_NEW_TOKENS
    from workers.modeling import load_target
    from workers.scoring.answers import detect_task_kind, get_judge
    from workers.scoring.own_answers import generate_own_answers
    from workers.scoring.prompts import PromptBuilder

    before = torch.get_num_threads()
    torch.set_num_threads(1)  # a shared 2-core machine: see tests/scoring/conftest.py
    try:
        target = load_target(PACKAGED, cache_dir=TEST_MODELS)
        problems = generate_problems(SAMPLE, seed=0)
        pool = [(p.id, p.question, p.gold) for p in problems]
        start = time.perf_counter()
        texts, generated = generate_own_answers(
            target, PromptBuilder(target.tokenizer), pool, max_new_tokens=OWN_ANSWER_MAX_NEW_TOKENS
        )
        per_answer = (time.perf_counter() - start) / SAMPLE
    finally:
        torch.set_num_threads(before)
    judge = get_judge(detect_task_kind(p.gold for p in problems))
    share = sum(judge(t, p.gold) for t, p in zip(texts, problems, strict=True)) / SAMPLE
    print(f"demo accuracy {share:.0%} of {SAMPLE}, {per_answer:.2f} s per answer ({target.dtype})")
    assert generated == SAMPLE
    assert 0.20 <= share <= 0.60
