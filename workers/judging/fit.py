"""Does one of Familiar's rule judges fit a question? Where none does, there is no verdict.

The rules (``workers.judging.rules``) check numbers, options, yes/no, code tests and short
text (a span, a name, an expression). A text gold of several lines, a sequence of actions
(a plan for a planning domain, checked there by a domain validator) or long free text is an
answer none of them can check: a text match calls right answers wrong (0-13% correct where
the file's own verdicts said 100%). Such a question is "not judged": no verdict, left out
of every share correct, and the correctness rule stays off for it.
"""

from __future__ import annotations

import re

NOT_JUDGED = "not judged"  # the rule name of a Judgement with no fitting judge
MAX_TEXT_WORDS = 12
MAX_TEXT_CHARS = 120
ACTION = re.compile(r"\(\s*[A-Za-z][\w-]*\s+[\w\s-]+\)")  # "(pick-up a)", "(stack a b)"


def unfit_reason(answer_type: str, gold: str | None) -> str | None:
    """Why no rule judge fits this question (None when one does)."""
    if answer_type != "text" or gold is None or not gold.strip():
        return None
    text = gold.strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(ACTION.findall(text)) >= 2:
        return f"the gold answer is a sequence of {len(ACTION.findall(text))} actions (a plan)"
    if len(lines) > 1:
        return f"the gold answer has {len(lines)} lines"
    words = len(text.split())
    if words > MAX_TEXT_WORDS or len(text) > MAX_TEXT_CHARS:
        return f"the gold answer is free text ({words} words)"
    return None
