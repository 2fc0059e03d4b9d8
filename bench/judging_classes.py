"""Print, per class of problem from issue 10, what the old project-wide judge and the new
per-question judge decide on small generated files (no model, a few seconds).

    PYTHONPATH=. python bench/judging_classes.py
"""

from __future__ import annotations

import json
import random

from workers.judging import judge_answer
from workers.scoring.answers import detect_task_kind, get_judge

OPTIONS_Q = "Where do you buy milk?\n(1) meeting (2) office (3) supermarket (4) garage (5) library"
TESTS = json.dumps(["assert add(1, 2) == 3", "assert add(0, 0) == 0", "assert add(-1, 1) == 0"])
GOOD_CODE = "```python\ndef add(a, b):\n    return a + b\n```"


def odd_gold_task(n: int = 500) -> list[tuple[str, str, str, bool]]:
    """Numeric questions answered "x.0"; one yes/no question among them."""
    rng = random.Random(0)
    rows = [
        (f"What is {a} + {b}?", f"It is {a + b}.0", str(a + b), True)
        for a, b in ((rng.randint(1, 99), rng.randint(1, 99)) for _ in range(n))
    ]
    return [*rows, ("Is 9 prime?", "No. Final answer: False", "False", True)]


def option_task() -> list[tuple[str, str, str, bool]]:
    contradiction = "(1): meeting no... The correct answer is (5): supermarket"
    return [
        (OPTIONS_Q, contradiction, "5", False),
        (OPTIONS_Q, "The answer is (3)", "3", True),
        (OPTIONS_Q, "Final Answer: supermarket", "3", True),
    ]


def code_task() -> list[tuple[str, str, str, bool]]:
    bad = GOOD_CODE.replace("a + b", "a - b")
    hang = GOOD_CODE.replace("return a + b", "while True: pass")
    return [
        ("Write add.", GOOD_CODE, TESTS, True),
        ("Write add.", bad, TESTS, False),
        ("Write add.", hang, TESTS, False),
    ]


def measure(name: str, rows: list[tuple[str, str, str, bool]]) -> None:
    kind = detect_task_kind(g for _, _, g, _ in rows)
    old = [get_judge(kind)(a, g) for _, a, g, _ in rows]
    new = [judge_answer(q, a, g).verdict is True for q, a, g, _ in rows]
    truth = [want for *_, want in rows]
    n = len(rows)
    print(
        f"{name:<27} rows {n:>4}  truly correct {sum(truth) / n:6.1%} | old ({kind}): judged "
        f"correct {sum(old) / n:6.1%}, verdicts right {_agree(old, truth):6.1%} | new: judged "
        f"correct {sum(new) / n:6.1%}, verdicts right {_agree(new, truth):6.1%}"
    )


def _agree(a: list[bool], b: list[bool]) -> float:
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


if __name__ == "__main__":
    measure("one odd gold, numeric task", odd_gold_task())
    measure("numbered options", option_task())
    measure("code with test lists", code_task())
