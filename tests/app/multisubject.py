"""A multi-subject file from real data. The shared research data (GSM8K) has no subject
field, so each real GSM8K question gets a subject from its own text: ``money`` (it mentions
dollars or cents), ``time`` (hours, days, weeks...), else ``counting``. The responses are
the real strategies' (gpt4, simple_response)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.paths import GSM8K_DIR

STRATEGIES = ("gpt4", "simple_response")
TIME = re.compile(r"\b(hours?|minutes?|days?|weeks?|years?|months?)\b")


def subject(question: str) -> str:
    if "$" in question or "dollar" in question or "cents" in question:
        return "money"
    return "time" if TIME.search(question) else "counting"


def write_multisubject(folder: Path, n: int = 60, field: str = "subject") -> list[Path]:
    paths = []
    for name in STRATEGIES:
        rows = json.loads((GSM8K_DIR / f"{name}.json").read_text())[:n]
        for r in rows:
            r[field] = subject(r["question"])
        path = folder / f"{name}.json"
        path.write_text(json.dumps(rows))
        paths.append(path)
    return paths
