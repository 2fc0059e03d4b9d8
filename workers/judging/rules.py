"""Judge one answer by the rule of its question's answer type.

``JUDGE_RULES`` documents each rule; the ``rule`` of a ``Judgement`` names the one applied.
Code answers are judged by running tests in the sandbox (``workers.judging.code``): the
question's own tests when the upload had a tests field (``CodeTests``), else the gold's.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.evaluation.markers import final_statement, last_line
from app.evaluation.numbers import as_number, last_number, numbers_in, same_number, show, to_float
from app.evaluation.options import final_choice, norm, option_for_gold, parse_options
from app.schemas.judgements import RULE_TEXTS
from workers.judging.answer_types import CodeTests, detect_answer_type, yes_no
from workers.judging.fit import NOT_JUDGED, unfit_reason
from workers.judging.verdicts import Judgement

JUDGE_RULES = RULE_TEXTS  # shown on the judgements page, so they live in app.schemas
YES_NO_WORD = re.compile(r"\b(yes|no|true|false)\b", re.IGNORECASE)


def judge_answer(
    question: str,
    response: str,
    gold: str | None,
    answer_type: str | None = None,
    *,
    tests: CodeTests | None = None,
) -> Judgement:
    """The judgement of ``response`` against ``gold`` by the question's answer type; a
    question with its own ``tests`` is a code question judged by running them."""
    if tests is not None and tests.tests:
        from workers.judging.code import judge_with_tests

        return judge_with_tests(response or "", tests)
    kind = answer_type or detect_answer_type(question, gold)
    if gold is None or not str(gold).strip():
        return Judgement(kind, None, None, "no gold", "no gold answer to compare with")
    unfit = unfit_reason(kind, str(gold))
    if unfit is not None:
        why = f"no judge of Familiar's fits: {unfit}"
        return Judgement(kind, None, None, NOT_JUDGED, why)
    return RULES[kind](question, response or "", str(gold))


def judge_number(question: str, response: str, gold: str) -> Judgement:
    want = as_number(gold)
    if want is None:
        want = last_number(gold)
    said, how = final_statement(response, strong_only=True)  # else the last number (reference)
    got = None
    if said is not None and numbers_in(said):
        got = to_float(numbers_in(said)[-1])
    else:
        found = numbers_in(response)
        got, how = (to_float(found[-1]), "last number") if found else (None, "no number")
    if got is None or want is None:
        return Judgement("number", None, False, "number", "no number in the answer")
    ok = same_number(got, want)
    why = f"{show(got)} {'=' if ok else '≠'} {show(want)} ({how})"
    return Judgement("number", show(got), ok, "number", why)


def judge_option(question: str, response: str, gold: str) -> Judgement:
    options = parse_options(question)
    want = option_for_gold(gold, options) if options else None
    want_label = want.label if want else gold.strip().strip("().").upper()
    choice = final_choice(response, options)
    details = {"options": {o.label: o.text for o in options}, "gold_option": want_label}
    if choice.label is None:
        return Judgement("option", None, False, "option", "no final choice found", details)
    if choice.conflict:
        return Judgement("option", choice.said, False, "option", choice.conflict, details)
    ok = choice.label == want_label
    why = f"chose {choice.label} ({choice.how}); gold is {want_label}"
    return Judgement("option", choice.label, ok, "option", why, details)


def judge_yes_no(question: str, response: str, gold: str) -> Judgement:
    said, how = final_statement(response)
    words = YES_NO_WORD.findall(said or "") or YES_NO_WORD.findall(last_line(response))
    if not words:
        return Judgement("yesno", None, False, "yesno", "no yes/no in the final statement")
    got = yes_no(words[-1])
    ok = got == yes_no(gold)
    return Judgement(
        "yesno", got, ok, "yesno", f"{got} vs gold {yes_no(gold)} ({how or 'last line'})"
    )


def judge_text(question: str, response: str, gold: str) -> Judgement:
    said, how = final_statement(response)
    if said is None:
        said, how = last_line(response), "last line"
    want, got = norm(gold), norm(said)
    if not want:
        return Judgement("text", said, False, "text", "the gold is empty after normalizing")
    if got == want:
        return Judgement("text", said, True, "text", f"equals the gold ({how})")
    ok = re.search(rf"(?<!\w){re.escape(want)}(?!\w)", got) is not None
    why = f"{'contains' if ok else 'does not contain'} the gold ({how})"
    return Judgement("text", said, ok, "text", why)


def judge_code(question: str, response: str, gold: str) -> Judgement:
    from workers.judging.code import judge_code_answer

    return judge_code_answer(response, gold)


RULES: dict[str, Callable[[str, str, str], Judgement]] = {
    "number": judge_number,
    "option": judge_option,
    "yesno": judge_yes_no,
    "text": judge_text,
    "code": judge_code,
}
