"""Gold answers cut at a thousands comma, repaired from the row's own solution.

Research files carry a numeric gold beside the worked solution. In the SPPL GSM8K test
file, 14 of 1319 ``numerical_final_answer`` values were cut at the thousands comma: the
solution ends "Final Answer: 2,125" and the gold reads "2.0". Scored against such a gold,
a right answer counts as wrong, so a recommendation would rest on data known to be wrong.

The repair is narrow on purpose: only when the solution's final answer is a number written
with thousands commas AND the stored gold equals its part before the first comma. Any other
disagreement is left as it is (the gold may be right and the solution wrong).
"""

from __future__ import annotations

import re

from app.evaluation.numbers import as_number

_GROUPED = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")


def repaired_gold(gold: str | None, solution: str | None) -> str | None:
    """The full number when ``gold`` is ``solution``'s final answer cut at its first comma."""
    if not gold or not solution:
        return None
    final = _final_number_text(solution)
    if final is None or not _GROUPED.match(final):
        return None
    head = as_number(final.split(",", 1)[0])
    stored = as_number(gold)
    if head is None or stored is None or head != stored:
        return None
    return final.replace(",", "")


def _final_number_text(solution: str) -> str | None:
    text = solution.strip()
    for marker in ("####", "Final Answer:"):
        if marker in text:
            tail = text.rsplit(marker, 1)[1].strip().split("\n", 1)[0]
            return tail.strip().lstrip("$").rstrip(".").strip() or None
    return None
