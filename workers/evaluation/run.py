"""Evaluate a model on test questions: batched greedy answers, each extracted and judged.

The prompt of a question is its single user turn in the target's chat template
(``workers.scoring.prompts.chat_prompt_text``), encoded as the scan's generation prompts are
(``encode``: the rendered template already holds its special tokens). Generation is
``workers.scoring.generate.generate_greedy``: greedy, KV cache, prompts sorted by length and
batched under ``token_budget`` tokens (rows x (longest prompt + max_new_tokens)), stopping
at the model's end-of-turn/EOS ids. Each answer is judged by the named extractor
(``app.evaluation.extractors``) the step it ends and handed to ``on_prediction``, so a
caller that stores predictions as they come keeps them when the job is cancelled or killed.

``seconds`` is the wall time of generation and scoring; ``tokens_per_s`` is the new tokens
generated (stop tokens not counted) per second of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.evaluation.extractors import get_extractor, score_output
from workers.backends.transformers import as_backend
from workers.scoring.prompts import chat_prompt_text, encode

ProgressFn = Callable[[int, int], None]  # (answered questions, total)


@dataclass
class EvalQuestion:
    question_id: str
    question: str
    gold: str


@dataclass
class Prediction:
    question_id: str
    output: str
    extracted: str | None
    gold: str  # the gold answer compared with (``gold_answer`` of the question's gold)
    correct: bool
    new_tokens: int
    why: str = ""


@dataclass
class EvalResult:
    predictions: list[Prediction]  # in question order
    accuracy: float
    extractor: str
    seconds: float
    tokens_per_s: float


class EvalInputError(ValueError):
    """The questions cannot be evaluated (no questions, a missing gold, a duplicate id)."""


def check_questions(questions: Sequence[EvalQuestion]) -> None:
    """Raise EvalInputError naming the first question without a gold or with a repeated id."""
    if not questions:
        raise EvalInputError("there are no test questions to evaluate")
    seen: set[str] = set()
    for q in questions:
        if q.gold is None or not str(q.gold).strip():
            raise EvalInputError(f"test question {q.question_id!r} has no gold answer")
        if q.question_id in seen:
            raise EvalInputError(f"test question id {q.question_id!r} appears twice")
        seen.add(q.question_id)


def prompt_ids(tokenizer: Any, question: str) -> tuple[int, ...]:
    """The evaluation prompt of ``question``: its user turn in the chat template, as ids."""
    return encode(tokenizer, chat_prompt_text(tokenizer, question))


def evaluate_model(
    model: Any,
    tokenizer: Any,
    questions: Sequence[EvalQuestion],
    *,
    extractor: str,
    adapter: Path | None = None,
    max_new_tokens: int = 320,
    token_budget: int = 32768,
    on_progress: ProgressFn | None = None,
    on_prediction: Callable[[Prediction], None] | None = None,
) -> EvalResult:
    """Answer every question greedily (through ``adapter`` when given) and judge each answer
    with ``extractor``. ``model``: a model backend (``workers.backends``), or a bare
    transformers model with its ``tokenizer``."""
    backend = as_backend(model, tokenizer)
    tokenizer = backend.tokenizer
    get_extractor(extractor)  # a typo fails before the model runs
    check_questions(questions)
    started = time.perf_counter()
    prompts = [prompt_ids(tokenizer, q.question) for q in questions]
    counts: dict[int, int] = {}
    predictions: dict[int, Prediction] = {}

    def judge(index: int, text: str) -> None:
        q = questions[index]
        scored = score_output(extractor, text, q.gold)
        pred = Prediction(
            q.question_id,
            text,
            scored.extracted,
            scored.gold,
            scored.correct,
            counts.get(index, 0),
            scored.why,
        )
        predictions[index] = pred
        if on_prediction is not None:
            on_prediction(pred)

    backend.generate(
        prompts,
        max_new_tokens=max_new_tokens,
        adapter=adapter,
        token_budget=token_budget,
        on_progress=on_progress,
        on_answer=judge,
        on_tokens=counts.__setitem__,
    )
    seconds = time.perf_counter() - started
    ordered = [predictions[i] for i in range(len(questions))]
    tokens = sum(p.new_tokens for p in ordered)
    return EvalResult(
        predictions=ordered,
        accuracy=sum(p.correct for p in ordered) / len(ordered),
        extractor=extractor,
        seconds=seconds,
        tokens_per_s=tokens / seconds if seconds > 0 else 0.0,
    )
