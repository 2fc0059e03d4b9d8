"""``ScanReport``: the stored chart payloads of a finished scan, typed at the top levels.

Built once by ``app.services.scan_report.build_report`` when the scan's results are stored;
pages read it through ``ScanReport`` attributes, never by string keys.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Flags(BaseModel):
    """Per strategy, what each flagged metric flags (``<metric>_<flag>`` and its ``_keys``;
    IFD's are typed, others ride along) and the truncated inputs."""

    model_config = ConfigDict(extra="allow")

    ifd_above_1: dict[str, int] = Field(default_factory=dict)
    ifd_above_1_keys: dict[str, list[str]] = Field(default_factory=dict)
    truncated: dict[str, int] = Field(default_factory=dict)


class MetricReport(BaseModel):
    label: str
    lower_is_better: bool
    log_scale: bool
    ranking: dict[str, Any] = Field(description="app.stats.ranking.rank_strategies().to_dict()")
    win_rate: dict[str, Any]
    distributions: dict[str, Any] = Field(description="box, scatter, histogram, ecdf")
    truncated: dict[str, int] = Field(default_factory=dict)

    @property
    def order(self) -> list[str]:
        return list(self.ranking.get("order", []))

    @property
    def strategies(self) -> list[dict[str, Any]]:
        return list(self.ranking.get("strategies", []))


class ScanReport(BaseModel):
    metrics: list[str]
    labels: dict[str, str]
    primary: str | None
    recommendation: dict[str, Any] | None
    per_metric: dict[str, MetricReport]
    agreement: dict[str, Any] | None = None
    correctness: dict[str, Any] | None = Field(
        default=None, description="app.stats.correctness: who the correctness rule passed over"
    )
    flags: Flags = Field(default_factory=Flags)
    build_s: float = 0.0

    def charted_keys(self) -> set[str]:
        """Question keys the charts and flag lists name: scatter sample, outliers, IFD > 1."""
        keys: set[str] = set()
        for data in self.per_metric.values():
            dist = data.distributions
            keys.update(dist["scatter"]["keys"])
            for box in dist["box"].values():
                keys.update(o["key"] for o in box["outliers"])
        for names in self.flags.ifd_above_1_keys.values():
            keys.update(names)
        return keys
