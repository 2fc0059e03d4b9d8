"""The answer type of one question, from its gold answer (and its options).

- ``code``: the gold is a list of test assertions (``assert ...`` lines, or a JSON list).
- ``option``: the question lists options and the gold names one (label or text), or the
  gold is a lone option letter.
- ``yesno``: the gold is yes/no/true/false.
- ``number``: the gold is a number (units, currency, LaTeX fractions allowed).
- ``text``: anything else (span answers, expressions), compared as normalized text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from app.evaluation.numbers import as_number
from app.evaluation.options import option_for_gold, parse_options

ANSWER_TYPES = ("number", "option", "yesno", "text", "code")
YES_NO = {"yes": "yes", "no": "no", "true": "yes", "false": "no"}
LONE_LETTER = re.compile(r"\(?[A-J]\)?\.?")


GOLD = "gold"  # CodeTests.field of tests read from the gold itself


@dataclass(frozen=True)
class CodeTests:
    """A code question's tests: their texts, where they came from (a field of the upload,
    such as ``test_list``, or ``GOLD``) and setup code run before them."""

    tests: tuple[str, ...]
    field: str = GOLD
    setup: str | None = None

    def source(self) -> str:
        """Where the tests came from, in words (shown with every verdict)."""
        if self.field == GOLD:
            return "tests from the gold"
        return f"tests from the file's field '{self.field}'"


def assertion_lines(gold: str) -> list[str]:
    """The assertions of a code gold: a JSON list of strings or ``assert`` lines."""
    text = (gold or "").strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            items = None
        if isinstance(items, list) and items and all(isinstance(t, str) for t in items):
            return [t.strip() for t in items if t.strip()]
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines if lines and all(ln.lstrip().startswith("assert") for ln in lines) else []


def yes_no(text: str) -> str | None:
    return YES_NO.get(re.sub(r"[^\w]", "", (text or "").casefold()))


def detect_answer_type(question: str, gold: str | None) -> str:
    """One of ``ANSWER_TYPES`` for this question (``text`` when there is no gold)."""
    if gold is None or not gold.strip():
        return "text"
    tests = assertion_lines(gold)
    if tests and any(t.lstrip().startswith("assert") for t in tests):
        return "code"
    options = parse_options(question)
    if options and option_for_gold(gold, options) is not None:
        return "option"
    if not options and LONE_LETTER.fullmatch(gold.strip()):
        return "option"
    if yes_no(gold):
        return "yesno"
    if as_number(gold) is not None:
        return "number"
    return "text"
