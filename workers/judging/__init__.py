"""Answer checking per question: detect the answer type, extract the final answer, judge.

Pure code (texts in, ``Judgement`` out), no database and no model. Entry point:
``judge_answer(question, response, gold)``. Types: number, option, yesno, text, code.
"""

from workers.judging.answer_types import ANSWER_TYPES, detect_answer_type
from workers.judging.rules import JUDGE_RULES, judge_answer
from workers.judging.verdicts import Judgement

__all__ = ["ANSWER_TYPES", "JUDGE_RULES", "Judgement", "detect_answer_type", "judge_answer"]
