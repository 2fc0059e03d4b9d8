"""``ScanResult``: everything a scan produced, as plain JSON (``to_dict``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ScanResult:
    """Everything a scan produced; ``to_dict()`` is plain JSON (NaN -> null)."""

    settings: dict[str, Any]
    model: dict[str, Any]
    sample: list[str]
    samples: list[list[str]] = field(default_factory=list)  # K disjoint samples (K > 1)
    exemplars: dict[str, list[str]] = field(default_factory=dict)
    exemplar_sources: dict[str, list[str]] = field(default_factory=dict)
    own_answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    values: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    aggregates: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    correct_share: dict[str, dict[str, Any]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _json_safe(dict(self.__dict__))


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value
