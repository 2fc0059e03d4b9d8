"""Answer checking: is a response's final answer the gold answer?

Judges (registry by name, pluggable with ``register_judge``):

- ``numeric``: the response's final number vs the number in the gold. The final number is
  the last number on the line of the LAST "Final Answer:" marker when there is one (so
  "Final Answer: 48 + 24 = 72" gives 72 and rambling on later lines is ignored), else the
  LAST number in the response (the reference rule). Tolerant of
  thousands separators ("1,000"), currency and units ("$18", "18 dollars", "50%"), trailing
  ".0" and a trailing full stop; equal when within 1e-6 relative (1e-9 absolute).
- ``choice``: the option letter. The gold's letter (first standalone capital, "B", "(B)",
  "B. text") vs the response's: after "Final Answer:"/"answer is" if present, else the last
  standalone (A)-(J) / A-J letter.
- ``exact``: normalised text equality (case, surrounding whitespace and punctuation, inner
  whitespace) of the gold vs the text after the last "Final Answer:" (or the whole response).

``detect_task_kind(golds)`` picks "numeric" when every gold is a number, "choice" when every
gold is an option letter, else "exact" (one project-wide kind: kept for explicit choices).

The default, ``auto``, judges each question by its own answer type
(``workers.judging``: number, option, yesno, text, code), so one odd gold no longer
switches a whole task to exact matching. ``check_answer`` is the entry point that knows
the question text, which ``auto`` needs (options, per-question type).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable

Judge = Callable[[str, str], bool]

NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\.\d+")
FINAL = re.compile(r"final answer\s*[:：]?", re.IGNORECASE)
LETTER = re.compile(r"\(([A-J])\)|\b([A-J])\b")
ANSWER_LETTER = re.compile(
    r"(?:final answer|answer is|answer:)\s*[:：]?\s*\(?([A-J])\b\)?", re.IGNORECASE
)


class UnknownJudgeError(ValueError):
    """No judge of that name; the message suggests the closest known name."""


def parse_number(text: str) -> float | None:
    """The last number in ``text`` as a float, or None."""
    matches = NUMBER.findall(text or "")
    if not matches:
        return None
    try:
        return float(matches[-1].replace(",", ""))
    except ValueError:
        return None


def final_number(response: str) -> float | None:
    """Last number on the line of the last "Final Answer:" marker, else the last number."""
    parts = FINAL.split(response or "")
    if len(parts) > 1:
        line = parts[-1].strip().split("\n", 1)[0]
        if (number := parse_number(line)) is not None:
            return number
    return parse_number(response)


def numeric_judge(response: str, gold: str) -> bool:
    """The response's final number equals the gold number."""
    want, got = parse_number(gold), final_number(response)
    if want is None or got is None:
        return False
    return math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9)


def gold_letter(gold: str) -> str | None:
    match = LETTER.search((gold or "").strip())
    return (match.group(1) or match.group(2)) if match else None


def response_letter(response: str) -> str | None:
    """The option letter a response commits to (explicit answer phrase first)."""
    explicit = ANSWER_LETTER.findall(response or "")
    if explicit:
        return explicit[-1].upper()
    letters = LETTER.findall(response or "")
    if not letters:
        return None
    paren, bare = letters[-1]
    return paren or bare


def choice_judge(response: str, gold: str) -> bool:
    want = gold_letter(gold)
    return want is not None and response_letter(response) == want


def normalize_text(text: str) -> str:
    text = re.sub(r"\s+", " ", (text or "").strip().lower())
    return text.strip(" .,;:!?\"'`")


def final_segment(response: str) -> str:
    """Text after the last "Final Answer:" marker, or the whole response."""
    parts = FINAL.split(response or "")
    return parts[-1] if len(parts) > 1 else (response or "")


def exact_judge(response: str, gold: str) -> bool:
    want = normalize_text(gold)
    return bool(want) and normalize_text(final_segment(response)) == want


JUDGES: dict[str, Judge] = {
    "numeric": numeric_judge,
    "choice": choice_judge,
    "exact": exact_judge,
}


AUTO = "auto"


def check_answer(judge: str, question: str, response: str, gold: str) -> bool:
    """Is ``response`` right? ``auto``: by the question's own answer type, else by ``judge``."""
    if judge == AUTO:
        from workers.judging import judge_answer

        return judge_answer(question, response, gold).verdict is True
    return get_judge(judge)(response, gold)


def answer_verdict(judge: str, question: str, response: str, gold: str) -> bool | None:
    """Like ``check_answer``, but None where no judge of Familiar's fits (``auto`` only):
    such an answer is "not judged" and left out of every share correct."""
    if judge == AUTO:
        from workers.judging import judge_answer

        return judge_answer(question, response, gold).verdict
    return get_judge(judge)(response, gold)


def known_judges() -> list[str]:
    return [AUTO, *sorted(JUDGES)]


def register_judge(name: str, judge: Judge) -> None:
    """Add a judge (e.g. a task-specific checker) under ``name``."""
    JUDGES[name] = judge


def get_judge(name: str) -> Judge:
    """The judge called ``name``; on a typo the error suggests the closest name."""
    if name in JUDGES:
        return JUDGES[name]
    close = difflib.get_close_matches(name, known_judges(), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise UnknownJudgeError(f"unknown judge {name!r}{hint} (known: {', '.join(known_judges())})")


def check_judge_name(name: str) -> None:
    """Raise UnknownJudgeError unless ``name`` is ``auto`` or a registered judge."""
    if name != AUTO:
        get_judge(name)


def is_number(text: str) -> bool:
    stripped = re.sub(r"[\s$€£%]", "", text or "").rstrip(".")
    return bool(stripped) and NUMBER.fullmatch(stripped) is not None


def is_letter(text: str) -> bool:
    return re.fullmatch(r"\(?[A-J]\)?\.?", (text or "").strip()) is not None


def detect_task_kind(golds: Iterable[str | None]) -> str:
    """Guess the judge name ("numeric", "choice" or "exact") from the gold answers."""
    present = [g for g in golds if g is not None and str(g).strip()]
    if present and all(is_number(str(g)) for g in present):
        return "numeric"
    if present and all(is_letter(str(g)) for g in present):
        return "choice"
    return "exact"
