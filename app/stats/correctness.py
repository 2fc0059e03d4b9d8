"""The correctness rule: familiarity only ranks acceptable responses.

A low perplexity says the target model finds a response familiar, not that the response is
right (the target's own greedy answers are the most familiar of all, right or wrong). So,
where the scanned questions have gold answers, a strategy is *recommendable* only when its
share of correct responses is close to the best strategy's:

    passed over  <=>  share < best share - margin

with ``margin`` in percentage points (setting ``RECOMMEND_CORRECT_MARGIN``, default 10; 100
switches the rule off). The shares come from the same sampled questions for every strategy
(``n`` = questions of the sample that have a gold answer), so the comparison is paired by
construction. A margin and not a significance test, on purpose: with the usual 10-50
questions a test would excuse large gaps as noise, and the rule's job is to never endorse
wrong data; a passed-over strategy is still ranked and shown, only not recommended. When even
the best share is 0, every strategy with a checked answer is passed over (no strategy gave a
single answer that matches the gold). Strategies without any checked answer are not judged.
With no gold answer in the sample the rule is inactive, and says so. Answers no judge of
Familiar's fits ("not judged": a plan, long free text) are left out of the shares, and with
only such answers the rule is off and says why; verdicts taken from the file or set by hand
are named in the note ("verdict from the file", "human verdict").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MARGIN = 10.0  # percentage points


@dataclass(frozen=True)
class CorrectnessGate:
    """Which strategies the rule passes over, and why (plain-text reasons)."""

    active: bool
    margin: float
    best_share: float | None = None
    best: tuple[str, ...] = ()
    passed_over: dict[str, str] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "margin_points": self.margin,
            "best_share": self.best_share,
            "best": list(self.best),
            "passed_over": dict(self.passed_over),
            "note": self.note,
        }


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def checked_shares(correct_share: Mapping[str, Mapping[str, Any]] | None) -> dict[str, float]:
    """Strategy -> share correct, for strategies with at least one checked response."""
    out = {}
    for name, entry in (correct_share or {}).items():
        share, n = entry.get("share"), int(entry.get("n") or 0)
        if n > 0 and share is not None and math.isfinite(float(share)):
            out[name] = float(share)
    return out


def correctness_gate(
    correct_share: Mapping[str, Mapping[str, Any]] | None, *, margin: float = DEFAULT_MARGIN
) -> CorrectnessGate:
    """Apply the rule to ``{strategy: {"share": 0-1 or None, "n": checked questions}}``."""
    shares = checked_shares(correct_share)
    unjudged = sum(int(e.get("not_judged") or 0) for e in (correct_share or {}).values())
    if not shares:
        why = (
            f"No judge of Familiar's fits the scanned questions ({unjudged} answers not "
            "judged; ask the LLM judge or use the verdicts the file carries)"
            if unjudged
            else "No scanned question has a gold answer"
        )
        return CorrectnessGate(
            False,
            margin,
            note=(
                f"{why}, so the correctness rule is inactive: this recommendation rests on "
                "familiarity alone and cannot tell whether the answers are right."
            ),
        )
    best_share = max(shares.values())
    best = tuple(sorted(n for n, s in shares.items() if s == best_share))
    floor = best_share - margin / 100
    passed = {
        name: _reason(share, best_share, best, margin)
        for name, share in sorted(shares.items())
        if share < floor - 1e-12 or best_share == 0
    }
    note = _note(passed, best_share, margin) + _sources_note(correct_share or {}, unjudged)
    return CorrectnessGate(True, margin, best_share, best, passed, note)


SOURCE_WORDS = {"file": "verdict from the file", "human": "human verdict"}


def _sources_note(correct_share: Mapping[str, Mapping[str, Any]], unjudged: int) -> str:
    """Where the verdicts came from, when not all from Familiar's judge."""
    counts: dict[str, int] = {}
    for entry in correct_share.values():
        for source, n in (entry.get("sources") or {}).items():
            counts[source] = counts.get(source, 0) + int(n or 0)
    parts = [f"{SOURCE_WORDS[s]}: {counts[s]}" for s in SOURCE_WORDS if counts.get(s)]
    if unjudged:
        parts.append(f"not judged (no judge fits, left out): {unjudged}")
    return f" Verdicts: {'; '.join(parts)}." if parts else ""


def _reason(share: float, best_share: float, best: tuple[str, ...], margin: float) -> str:
    if best_share == 0:
        return "0% correct, and no strategy has a single answer that matches the gold answer"
    gap = 100 * (best_share - share)
    return (
        f"{_pct(share)} correct, {gap:.0f} points below the best ({_pct(best_share)}, "
        f"{', '.join(best)}); the rule passes over strategies more than {margin:g} points "
        "below the best"
    )


def _note(passed: Mapping[str, str], best_share: float, margin: float) -> str:
    rule = (
        f"Correctness rule: a strategy whose share of correct answers is more than {margin:g} "
        f"points below the best ({_pct(best_share)}) is ranked but not recommended"
    )
    if not passed:
        return rule + "; every strategy is within that margin."
    n = len(passed)
    return rule + f"; {n} {'strategy is' if n == 1 else 'strategies are'} passed over."
