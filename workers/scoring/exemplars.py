"""SPPL self-examples: which of the target's own answers go into each question's prompt.

Procedure (DESIGN.md, reference code):
- The candidate list is the target's own answers in POOL ORDER, keeping only the correct
  ones when the correctness filter is on. Each candidate's text is the answer followed by a
  newline and ``Final Answer: {gold}`` (the gold string as given).
- For the question at position i of the scan's sample order, the candidates at list
  positions i+1, i+2, ... (modulo the list length, i.e. wrapping) are taken until N are
  found, skipping the question's own answer (it may be in the pool). Only answers are
  inserted, never their questions.
- The examples depend on the question only, so every strategy of a question gets the SAME
  examples; differences between strategies come only from the candidate response.
- Fewer usable candidates than N: every available one is used (fewer examples per prompt)
  and a warning says how many. Fewer candidates than questions x N (examples repeat across
  questions, so the prompts are less diverse than the reference's) is also reported, with
  the number of distinct examples actually used.
- No correct answer at all: with ``allow_unfiltered_fallback`` every own answer is used
  instead and the plan records ``filtered=False`` with a warning; otherwise
  ``NoExemplarsError``. With the filter switched off all own answers are candidates and the
  plan records ``filtered=False`` (the paper's ablation).
- Unfiltered examples are the own answers AS GENERATED, with nothing appended (decision).
  In the reference procedure ``Final Answer: {gold}`` is part of the filtering step: it is
  appended to answers already checked to reach that gold, so it restates their own result.
  The no-filter ablation removes that step, i.e. the correctness check and everything that
  uses the gold; appending the gold to a wrong answer would make an example that contradicts
  itself ("...the answer is 100.\nFinal Answer: 210"), and appending it to the correct ones
  only would smuggle the check back in. So both filtered-off and fallback plans use the raw
  own answers, correct or not, and pages label them "unfiltered own answers".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


class NoExemplarsError(RuntimeError):
    """No usable own answer for SPPL (none correct and the unfiltered fallback is off)."""


@dataclass(frozen=True)
class OwnAnswer:
    """The target's own zero-shot answer to one pool question."""

    key: str
    text: str
    gold: str | None = None
    correct: bool | None = None


@dataclass
class ExemplarPlan:
    """Per question key: the example texts and the pool keys they came from."""

    examples: dict[str, list[str]] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)
    filtered: bool = True
    n_candidates: int = 0
    n_pool: int = 0
    warnings: list[str] = field(default_factory=list)


def exemplar_text(answer: OwnAnswer, *, append_gold: bool = True) -> str:
    """The answer, with ``Final Answer: {gold}`` appended when ``append_gold`` and a gold
    exists (filtered plans only: see the module docstring)."""
    text = answer.text.strip()
    if not append_gold or answer.gold is None or not str(answer.gold).strip():
        return text
    return f"{text}\nFinal Answer: {str(answer.gold).strip()}"


def candidates(
    pool: Sequence[OwnAnswer], *, filter_correct: bool, allow_unfiltered_fallback: bool
) -> tuple[list[OwnAnswer], bool, list[str]]:
    """(candidate list in pool order, whether it is correctness-filtered, warnings)."""
    if not filter_correct:
        return list(pool), False, ["correctness filter off: all own answers are SPPL examples"]
    correct = [a for a in pool if a.correct]
    if correct:
        return correct, True, []
    if not allow_unfiltered_fallback:
        raise NoExemplarsError(
            f"none of the {len(pool)} own answers was correct; allow the unfiltered "
            "fallback or switch the correctness filter off"
        )
    warning = (
        f"none of the {len(pool)} own answers was correct; SPPL fell back to unfiltered "
        "own answers (the paper's no-filter ablation)"
    )
    return list(pool), False, [warning]


def next_n(cands: Sequence[OwnAnswer], position: int, n: int, own_key: str) -> list[OwnAnswer]:
    """Up to ``n`` candidates at positions position+1, position+2, ... (wrapping), never own."""
    picked: list[OwnAnswer] = []
    for step in range(1, len(cands) + 1):
        answer = cands[(position + step) % len(cands)]
        if answer.key != own_key:
            picked.append(answer)
        if len(picked) == n:
            break
    return picked


def select_exemplars(
    question_keys: Sequence[str],
    pool: Sequence[OwnAnswer],
    n: int,
    *,
    filter_correct: bool = True,
    allow_unfiltered_fallback: bool = True,
) -> ExemplarPlan:
    """Choose the SPPL examples of every question in ``question_keys`` (scan sample order)."""
    cands, filtered, warnings = candidates(
        pool, filter_correct=filter_correct, allow_unfiltered_fallback=allow_unfiltered_fallback
    )
    plan = ExemplarPlan(filtered=filtered, n_candidates=len(cands), n_pool=len(pool))
    plan.warnings.extend(warnings)
    for i, key in enumerate(question_keys):
        picked = next_n(cands, i, n, key) if cands else []
        plan.examples[key] = [exemplar_text(a, append_gold=filtered) for a in picked]
        plan.sources[key] = [a.key for a in picked]
    plan.warnings.extend(_shortage_warnings(plan, n))
    return plan


def _shortage_warnings(plan: ExemplarPlan, n: int) -> list[str]:
    short = [k for k, ex in plan.examples.items() if len(ex) < n]
    if not short and plan.n_candidates >= n * len(plan.examples):
        return []
    kind = "correct" if plan.filtered else "usable"
    distinct = len({source for sources in plan.sources.values() for source in sources})
    questions = len(plan.examples)
    if plan.n_candidates == plan.n_pool:
        text = (
            f"{plan.n_candidates} {kind} own answers for {questions} questions x {n} examples: "
            f"examples repeat across questions ({distinct} distinct used)"
        )
    else:
        text = (
            f"only {plan.n_candidates} of {plan.n_pool} own answers "
            f"{'was' if plan.n_candidates == 1 else 'were'} {kind}; SPPL used "
            f"{distinct} distinct example{'s' if distinct != 1 else ''} for {questions} questions"
        )
    if short:
        fewest = min(len(plan.examples[k]) for k in short)
        text += f" ({len(short)} questions got fewer than {n}, as few as {fewest})"
    return [text]
