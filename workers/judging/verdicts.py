"""The outcome of judging one answer, with everything needed to show why."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MAX_SHOWN = 500


@dataclass(frozen=True)
class Judgement:
    """answer -> ``extracted`` -> gold -> ``verdict`` -> ``rule`` (and ``reason`` in words).

    ``verdict`` is None when there is no gold to compare with.
    """

    answer_type: str
    extracted: str | None
    verdict: bool | None
    rule: str
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if out["extracted"] is not None:
            out["extracted"] = out["extracted"][:MAX_SHOWN]
        return out
