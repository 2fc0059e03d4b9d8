"""Golds cut at a thousands comma are repaired from the row's own solution, and only those."""

from __future__ import annotations

import json

import pytest

from app.ingest.golds import repaired_gold
from tests.paths import GSM8K_DIR


def test_the_14_cut_golds_of_the_real_test_file_are_repaired_and_no_other() -> None:
    rows = json.loads((GSM8K_DIR / "test_filtered.json").read_text())
    repaired = {
        i: fixed
        for i, row in enumerate(rows)
        if (fixed := repaired_gold(row["numerical_final_answer"], row["answer"])) is not None
    }
    assert len(repaired) == 14
    for i, fixed in repaired.items():
        final = rows[i]["answer"].rsplit("Final Answer:", 1)[1].strip()
        assert fixed == final.replace(",", "").lstrip("$").rstrip(".")
    assert {"2125", "114200", "276000", "5600", "1600"} <= set(repaired.values())


@pytest.mark.parametrize(
    ("gold", "solution", "expected"),
    [
        ("2.0", "so 2,125 in all\nFinal Answer: 2,125", "2125"),
        ("-1", "#### -1,000", "-1000"),
        ("114", "Final Answer: $114,200.", "114200"),
        ("18.0", "Final Answer: 18", None),  # agrees already
        ("7", "#### 5,600", None),  # disagrees otherwise: left to the user
        ("5", "the answer is 5,600", None),  # no final-answer line
        ("5", "#### 5,60", None),  # not thousands grouping
        (None, "#### 5,600", None),
    ],
)
def test_repair_is_narrow(gold: str | None, solution: str, expected: str | None) -> None:
    assert repaired_gold(gold, solution) == expected
