"""Where a response states its final answer: "Final Answer:", "the answer is", \\boxed{}."""

from __future__ import annotations

import re

ANSWER_MARKER = re.compile(
    r"final answer\s*(?:is)?\s*[:：]?|(?:the\s+)?(?:correct\s+|final\s+)?"
    r"(?:answer|option|choice)\s+(?:is|would be|should be)\s*[:：]?|\banswer\s*[:：]",
    re.IGNORECASE,
)
STRONG_MARKER = re.compile(r"final answer\s*(?:is)?\s*[:：]?", re.IGNORECASE)
BOXED = re.compile(r"\\boxed\s*\{")
MAX_SEGMENT = 300


def boxed_contents(text: str) -> list[str]:
    """The contents of every ``\\boxed{...}`` (nested braces balanced)."""
    out = []
    for m in BOXED.finditer(text or ""):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth == 0:
            out.append(text[m.end() : i - 1])
    return out


def final_statement(response: str, *, strong_only: bool = False) -> tuple[str | None, str]:
    """The text a response commits to as its final answer, and how it was found.

    The last ``\\boxed{}``; else the rest of the line after the last answer marker ("Final
    Answer:", and unless ``strong_only`` also "the answer is", "Answer:"); else None.
    """
    boxed = boxed_contents(response)
    if boxed:
        return boxed[-1].strip(), "boxed"
    marker = STRONG_MARKER if strong_only else ANSWER_MARKER
    matches = list(marker.finditer(response or ""))
    if matches:
        rest = response[matches[-1].end() :].strip()
        line = rest.split("\n", 1)[0].strip() or rest[:MAX_SEGMENT]
        return line[:MAX_SEGMENT], "answer marker"
    return None, ""


def last_line(response: str) -> str:
    lines = [ln.strip() for ln in (response or "").strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""
