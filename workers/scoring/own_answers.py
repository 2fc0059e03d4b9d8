"""The target's own zero-shot answers to the SPPL pool, cached, then checked.

Pool (decision): the FIRST ``pool`` questions of the scan's stable question order that have a
gold answer (all questions when the correctness filter is off). It does not depend on the
sample seed, like the reference's "first 500 training questions", so own answers are reused
across scans of the same data (the generation cache is keyed by model, dtype,
max_new_tokens and the exact prompt text).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from workers.backends.transformers import as_backend
from workers.scoring.answers import check_answer
from workers.scoring.cache import text_key
from workers.scoring.exemplars import OwnAnswer
from workers.scoring.prompts import PromptBuilder

Question = tuple[str, str, str | None]  # (question key, question text, gold or None)


def has_gold(gold: str | None) -> bool:
    return gold is not None and bool(str(gold).strip())


def pool_questions(questions: Sequence[Question], size: int, *, need_gold: bool) -> list[Question]:
    """The first ``size`` questions (with a gold answer when ``need_gold``)."""
    eligible = [q for q in questions if has_gold(q[2]) or not need_gold]
    return eligible[:size]


def generate_own_answers(
    target: Any,
    builder: PromptBuilder,
    pool: Sequence[Question],
    *,
    max_new_tokens: int,
    cache: Any = None,
    on_progress: Callable[[int, int], None] | None = None,
    on_eta: Callable[[float], None] | None = None,
    on_expected: Callable[[float], None] | None = None,
) -> tuple[list[str], int]:
    """Own answer texts in pool order and how many were generated (not cached).

    ``target``: a model backend (``workers.backends``; a loaded ``Target`` is wrapped)."""
    target = as_backend(target)
    prompts = [builder.generation_prompt(text) for _, text, _ in pool]
    keys = [
        text_key(target.model_key, target.dtype, max_new_tokens, p, target.tag) for p in prompts
    ]
    known = cache.get_texts(keys) if hasattr(cache, "get_texts") else {}
    todo = [i for i, k in enumerate(keys) if k not in known]
    if todo:
        done = len(keys) - len(todo)

        def keep(index: int, text: str) -> None:  # each answer stored as it ends
            if hasattr(cache, "put_texts"):
                cache.put_texts({keys[todo[index]]: text})

        def progress(n: int, _total: int) -> None:
            if on_progress is not None:
                on_progress(done + n, len(keys))

        progress(0, len(todo))  # what the cache already had (an ETA counts only new work)
        texts = target.generate(
            [builder.prompt_ids(prompts[i]) for i in todo],
            max_new_tokens=max_new_tokens,
            on_progress=progress,
            on_answer=keep,
            on_eta=on_eta,
            **({"on_expected": on_expected} if on_expected is not None else {}),
        )
        known = {**known, **{keys[i]: text for i, text in zip(todo, texts, strict=True)}}
    return [known[k] for k in keys], len(todo)


def check_answers(pool: Sequence[Question], texts: Sequence[str], judge: str) -> list[OwnAnswer]:
    """Own answers with their correctness (None where there is no gold)."""
    return [
        OwnAnswer(
            key,
            text,
            gold,
            check_answer(judge, question, text, str(gold)) if has_gold(gold) else None,
        )
        for (key, question, gold), text in zip(pool, texts, strict=True)
    ]
