"""A planning task in the shape real planning benchmarks have (Blocksworld as in PlanBench):
the question states the blocks and the goal, the gold is a plan (one action a line, PDDL
style), each strategy's answer is a plan, and the file carries its own `correct` field,
set by a domain validator (VAL) that Familiar does not have. A valid plan may differ from
the gold plan (another order, words instead of PDDL), so text matching calls it wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

BLOCKS = ("red", "blue", "orange", "yellow", "white", "green", "purple", "black", "pink", "grey")
QUESTION = (
    "I am playing with a set of blocks where I need to arrange the blocks into stacks. "
    "[STATEMENT] As initial conditions I have that, the {a} block is clear, the {b} block "
    "is clear, the hand is empty, the {a} block is on top of the {c} block, the {b} block "
    "is on the table and the {c} block is on the table. My goal is to have that the {c} "
    "block is on top of the {b} block and the {a} block is on top of the {c} block.\n"
    "My plan is as follows:\n[PLAN]"
)


def _blocks(i: int) -> tuple[str, str, str]:
    return BLOCKS[i % 10], BLOCKS[(i + 3) % 10], BLOCKS[(i + 6) % 10]


def gold_plan(a: str, b: str, c: str) -> str:
    return "\n".join(
        [
            f"(unstack {a} {c})",
            f"(put-down {a})",
            f"(pick-up {c})",
            f"(stack {c} {b})",
            f"(pick-up {a})",
            f"(stack {a} {c})",
        ]
    )


def worded_plan(a: str, b: str, c: str) -> str:
    """The same valid plan in words, as a model writes it."""
    return (
        f"unstack the {a} block from on top of the {c} block\nput down the {a} block\n"
        f"pick up the {c} block\nstack the {c} block on top of the {b} block\n"
        f"pick up the {a} block\nstack the {a} block on top of the {c} block\n[PLAN END]"
    )


def wrong_plan(a: str, b: str, c: str) -> str:
    """Picks up a block that is not clear: the validator refuses it."""
    return f"(pick-up {c})\n(stack {c} {b})\n(pick-up {a})\n(stack {a} {c})"


N = 10
# strategy -> which questions it gets wrong (by the file's own verdicts)
STRATEGIES = {"worded_plans": set(), "pddl_plans": {2, 7}}


def rows(strategy: str, correct_as: object = None) -> list[dict]:
    """One strategy's records; ``correct_as`` maps the verdict (True/False) to how the file
    spells it (bool by default; 1/0, "yes"/"no" and "true"/"false" occur in real files)."""
    out = []
    for i in range(N):
        a, b, c = _blocks(i)
        ok = i not in STRATEGIES[strategy]
        if strategy == "worded_plans":
            answer = worded_plan(a, b, c)
        else:
            answer = gold_plan(a, b, c) if ok else wrong_plan(a, b, c)
            if ok and i % 2:  # a valid plan that puts the first block down differently
                answer = answer.replace(f"(put-down {a})", f"(put-down {a}) ; on the table")
        spelled = correct_as(ok) if callable(correct_as) else ok
        out.append(
            {
                "id": f"bw-{i:03d}",
                "question": QUESTION.format(a=a, b=b, c=c),
                "answer": answer,
                "gold_label": gold_plan(a, b, c),
                "correct": spelled,
            }
        )
    return out


def write_planning(folder: Path, correct_as: object = None) -> list[Path]:
    paths = []
    for name in STRATEGIES:
        path = folder / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows(name, correct_as)))
        paths.append(path)
    return paths


def file_share(strategy: str) -> float:
    return 1 - len(STRATEGIES[strategy]) / N
