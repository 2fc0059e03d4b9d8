"""Answer checking per question: detect the answer type, extract the final answer, judge.

Pure code (texts in, ``Judgement`` out), no database and no model. Entry point:
``judge_answer(question, response, gold, tests=...)``. Types: number, option, yesno, text,
code (``tests``: a code question's own tests, ``CodeTests``).
"""

from workers.judging.answer_types import ANSWER_TYPES, CodeTests, detect_answer_type
from workers.judging.rules import JUDGE_RULES, judge_answer
from workers.judging.verdicts import Judgement

__all__ = [
    "ANSWER_TYPES",
    "JUDGE_RULES",
    "CodeTests",
    "Judgement",
    "detect_answer_type",
    "judge_answer",
]
