"""``ScanOutput``: what the scan core returns (``ScanResult.to_dict()``), typed.

The worker validates the core's output against it before storing, ``familiar scan`` writes
it as results.json, and tests build finished scans from it: one format, checked in one
place (tests/scoring/test_scan.py validates a real run against it).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ValueRow(BaseModel):
    """One response's value of one metric."""

    model_config = ConfigDict(extra="allow")

    question_key: str
    value: float | None
    n_tokens: int = 0
    truncated: bool = False


class ScanOutput(BaseModel):
    model_config = ConfigDict(extra="allow")

    settings: dict[str, Any] = Field(default_factory=dict)
    model: dict[str, Any] = Field(default_factory=dict)
    sample: list[str]
    samples: list[list[str]] = Field(
        default_factory=list, description="K > 1 disjoint samples (their union is `sample`)"
    )
    exemplars: dict[str, list[str]] = Field(default_factory=dict)
    exemplar_sources: dict[str, list[str]] = Field(default_factory=dict)
    own_answers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    values: dict[str, dict[str, list[ValueRow]]] = Field(
        description="strategy -> metric -> one row per sampled question"
    )
    aggregates: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)
    correct_share: dict[str, dict[str, Any]] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
