"""Multiple-choice options in a question, and the option a response finally chooses.

Options are a run of consecutive labels, A, B, C... or 1, 2, 3..., written "(A) text",
"A) text", "A. text" or "A: text" (unbracketed forms only at the start of a line). The
response's choice is its explicit final statement ("the answer is", "Final Answer:",
``\\boxed{}``), else a lone option on its last line. A label and an option text that name
different options contradict each other: the answer is wrong, and the reason says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.evaluation.markers import final_statement, last_line

LETTERS = "ABCDEFGHIJ"
MAX_OPTION_CHARS = 150
PAREN_LABEL = re.compile(r"\(\s*([A-J]|[1-9]|10)\s*\)")
LINE_LABEL = re.compile(r"(?m)^[ \t]*(?:option\s+)?([A-J]|[1-9]|10)\s*[.):：]\s+")
LABEL_IN_ANSWER = re.compile(
    r"^\s*(?:(?i:option|choice)\s+)?\(?\s*([A-J]|[1-9]|10)\s*\)?(?![\w])[\s.:：)\-–]*"
)


@dataclass(frozen=True)
class Option:
    label: str  # "A" or "1"
    text: str


@dataclass(frozen=True)
class Choice:
    label: str | None  # the option chosen, None when none could be found
    how: str  # how it was found
    said: str  # the text the choice was read from
    conflict: str = ""  # why a label and a text disagree ("" when they agree)


def _ordinal(label: str) -> int:
    return LETTERS.index(label) if label in LETTERS else int(label) - 1


def _markers(question: str) -> list[tuple[int, int, str]]:
    found = [(m.start(), m.end(), m.group(1)) for m in PAREN_LABEL.finditer(question)]
    found += [(m.start(1), m.end(), m.group(1)) for m in LINE_LABEL.finditer(question)]
    return sorted(set(found))


def parse_options(question: str) -> list[Option]:
    """The question's options (the longest run of consecutive labels, the last on a tie)."""
    marks = _markers(question or "")
    best: list[tuple[int, int, str]] = []
    for i, (_, _, label) in enumerate(marks):
        if _ordinal(label) != 0:
            continue
        chain = [marks[i]]
        for mark in marks[i + 1 :]:
            same_kind = mark[2].isdigit() == label.isdigit()
            if same_kind and _ordinal(mark[2]) == _ordinal(chain[-1][2]) + 1:
                chain.append(mark)
        if len(chain) >= 2 and len(chain) >= len(best):
            best = chain
    options = [
        Option(label, _option_text(question, end, best[k + 1][0] if k + 1 < len(best) else None))
        for k, (_, end, label) in enumerate(best)
    ]
    # Long items are the steps of a numbered problem statement, not options to choose from.
    return options if all(len(o.text) <= MAX_OPTION_CHARS for o in options) else []


def _option_text(question: str, start: int, stop: int | None) -> str:
    text = question[start:stop] if stop is not None else question[start:].split("\n", 1)[0]
    return " ".join(text.split()).strip(" ,;:")


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", (text or "").casefold()).split())


def option_for_gold(gold: str, options: list[Option]) -> Option | None:
    """The option a gold answer names: its label ("5", "(B)", "B. text") or its text."""
    g = (gold or "").strip()
    m = LABEL_IN_ANSWER.match(g)
    by_label = {o.label: o for o in options}
    if m and m.group(1).upper() in by_label and _label_only_or_consistent(g, m, by_label):
        return by_label[m.group(1).upper()]
    return _option_by_text(g, options, whole=True)


def _label_only_or_consistent(text: str, m: re.Match[str], by_label: dict[str, Option]) -> bool:
    rest = norm(text[m.end() :])
    return not rest or rest.startswith(norm(by_label[m.group(1).upper()].text))


def _option_by_text(text: str, options: list[Option], *, whole: bool) -> Option | None:
    """The option whose text is ``text`` (``whole``) or appears in it (longest wins)."""
    said = norm(text)
    if not said:
        return None
    if whole:
        return next((o for o in options if norm(o.text) == said), None)
    hits = [
        o for o in options if norm(o.text) and re.search(rf"\b{re.escape(norm(o.text))}\b", said)
    ]
    return max(hits, key=lambda o: len(o.text)) if hits else None


def final_choice(response: str, options: list[Option]) -> Choice:
    """The option the response commits to, or ``Choice(None, ...)`` when it commits to none."""
    said, how = final_statement(response)
    if said is None:
        said, how = last_line(response), "last line"
    choice = _read_choice(said, options, how)
    if choice.label is None and how != "last line":
        choice = _read_choice(last_line(response), options, "last line")
    return choice


def _read_choice(said: str, options: list[Option], how: str) -> Choice:
    by_label = {o.label: o for o in options}
    m = LABEL_IN_ANSWER.match(said)
    label = m.group(1).upper() if m else None
    if label is not None and (label in by_label or not options):
        rest = said[m.end() :] if m else ""
        named = _option_by_text(rest, options, whole=False) if rest.strip() else None
        if named is not None and named.label != label and not _mentions(rest, by_label[label]):
            why = (
                f"the answer says option {label} but names the text '{named.text}', "
                f"which is option {named.label}"
            )
            return Choice(label, how, said, conflict=why)
        return Choice(label, f"{how}: option label", said)
    named = _option_by_text(said, options, whole=False)
    if named is not None and (how != "last line" or norm(said) == norm(named.text)):
        return Choice(named.label, f"{how}: option text", said)
    return Choice(None, how, said)


def _mentions(text: str, option: Option) -> bool:
    return bool(norm(option.text)) and norm(option.text) in norm(text)
