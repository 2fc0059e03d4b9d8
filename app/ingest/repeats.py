"""Repeated questions within one strategy: counted and described (never refused).

How repeats are paired across strategies is ``app.ingest.matching.REPEAT_RULE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.ingest.matching import normalize_gold, normalize_question
from app.ingest.records import Record

MAX_EXAMPLES = 5


def count_repeats(records: Sequence[Record]) -> dict[str, Any]:
    """Rows whose question text (normalized) came earlier in the same strategy.

    ``rows``: repeat rows; ``same_gold`` / ``different_gold`` / ``no_gold``: by their gold
    compared with the first occurrence; ``whitespace_only``: repeats whose raw text differs
    from the first occurrence only in case, Unicode form or whitespace; ``examples``: up to
    five (first line, repeat line) pairs.
    """
    first: dict[str, Record] = {}
    out: dict[str, Any] = {
        "rows": 0,
        "same_gold": 0,
        "different_gold": 0,
        "no_gold": 0,
        "whitespace_only": 0,
        "examples": [],
    }
    for record in records:
        if record.source_id:  # explicit ids are their own questions
            continue
        norm = normalize_question(record.question)
        earlier = first.setdefault(norm, record)
        if earlier is record:
            continue
        out["rows"] += 1
        out[_gold_relation(earlier.gold, record.gold)] += 1
        out["whitespace_only"] += earlier.question != record.question
        if len(out["examples"]) < MAX_EXAMPLES:
            out["examples"].append([earlier.line, record.line])
    return out


def _gold_relation(a: str | None, b: str | None) -> str:
    ga, gb = normalize_gold(a), normalize_gold(b)
    if ga is None or gb is None:
        return "no_gold"
    return "same_gold" if ga == gb else "different_gold"


def describe_repeats(repeats: dict[str, Any]) -> str:
    """One sentence for the upload result and the project page."""
    parts = [
        f"{repeats[k]} {label}"
        for k, label in (
            ("same_gold", "with the same gold"),
            ("different_gold", "with a different gold"),
            ("no_gold", "without gold"),
            ("whitespace_only", "differing only in case or whitespace"),
        )
        if repeats[k]
    ]
    lines = ", ".join(f"{a} and {b}" for a, b in repeats["examples"])
    return (
        f"{repeats['rows']} row(s) repeat an earlier question ({'; '.join(parts)}; e.g. lines "
        f"{lines}); each repeat is kept as its own question, the k-th occurrence pairing with "
        "the k-th occurrence in other strategies (same gold first)"
    )
