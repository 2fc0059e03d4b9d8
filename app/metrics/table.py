"""One read model for every metric a project has, built-in or imported (issue 19).

A scan's metrics (``scan_values``/``scan_aggregates``, the stored report) and the project's
imported metrics (``imported_metrics``/``imported_metric_values``) stay in their own tables;
both load into a :class:`MetricTable` (``app.services.metrics.table`` holds the loaders), so
pages, exports, the validation's agreement table and studies read one shape: per metric
name, its registry entry (or an imported metric's description in the registry's shape),
where it came from, its per-(strategy, question) values and its per-strategy scores.

Nothing downstream asks which kind a metric is except to show where it came from, and the
"(imported)" label is built in one place: :attr:`MetricColumn.label`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from app.metrics import registry

SCAN = "scan"
IMPORTED = "imported"

Values = dict[str, dict[str, float]]  # strategy -> question key ("" per strategy) -> value


@dataclass(frozen=True)
class MetricColumn:
    """One metric in one project: how to read it, where it came from, its numbers."""

    info: registry.Metric  # the registry entry, or ``imported_info`` for an imported metric
    source: str  # "scan" | "imported: <file>"
    aggregates: dict[str, float]  # strategy -> the score it ranks by (finite values only)
    values: Values = field(default_factory=dict)  # per question (empty when not loaded)
    samples: list[dict[str, float]] | None = None  # K > 1 disjoint samples: {strategy: score}
    per: str = "question"  # "question" | "strategy" (an imported metric may be per strategy)
    detail: str = ""  # provenance for people: "scan 12 (tiny, 50 questions)", the file, time
    imported_at: datetime | None = None  # when an imported metric's file came in

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def file(self) -> str | None:
        """The file an imported metric came from (None for a scan's)."""
        return self.source.removeprefix(f"{IMPORTED}: ") if self.imported else None

    @property
    def imported(self) -> bool:
        return self.source != SCAN

    @property
    def kind(self) -> str:
        """ "scan" or "imported": where it came from, in one word."""
        return IMPORTED if self.imported else SCAN

    @property
    def label(self) -> str:
        """The label every page, export and chart shows: the registry's, or an imported
        metric's name saying so. The only place that label is built."""
        return f"{self.name} (imported)" if self.imported else self.info.label

    @property
    def lower_is_better(self) -> bool:
        return self.info.lower_is_better

    @property
    def familiarity(self) -> bool:
        """Ranks strategies in agreement tables (imported metrics always do)."""
        return self.info.role == "familiarity"

    def restricted(self, strategies: Iterable[str]) -> MetricColumn:
        """The same metric over these strategies only."""
        keep = set(strategies)
        return replace(
            self,
            aggregates={s: v for s, v in self.aggregates.items() if s in keep},
            values={s: v for s, v in self.values.items() if s in keep},
            samples=None
            if self.samples is None
            else [{s: v for s, v in b.items() if s in keep} for b in self.samples],
        )


def imported_info(name: str, *, lower_is_better: bool, source: str) -> registry.Metric:
    """An imported metric (issue 13) in the registry's shape, not registered: ranked and
    compared like a familiarity metric, never recommending. Its label is its name; pages
    show :attr:`MetricColumn.label`."""
    return registry.Metric(
        name,
        name,
        lower_is_better,
        "familiarity",
        f"Imported: {source}.",
        compute="",
        origin=IMPORTED,
        source=source,
        order=50,
    )


@dataclass
class MetricTable:
    """Columns by metric name, in the order they were added (scan first, then imported)."""

    columns: dict[str, MetricColumn] = field(default_factory=dict)

    @classmethod
    def of(cls, *groups: Iterable[MetricColumn]) -> MetricTable:
        return cls({c.name: c for group in groups for c in group})

    def __iter__(self) -> Iterator[MetricColumn]:
        return iter(self.columns.values())

    def __len__(self) -> int:
        return len(self.columns)

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __getitem__(self, name: str) -> MetricColumn:
        return self.columns[name]

    def where(
        self, *, imported: bool | None = None, familiarity: bool | None = None
    ) -> MetricTable:
        """The columns of one kind and role (None: either)."""
        return MetricTable(
            {
                n: c
                for n, c in self.columns.items()
                if (imported is None or c.imported == imported)
                and (familiarity is None or c.familiarity == familiarity)
            }
        )

    def restricted(self, strategies: Iterable[str]) -> MetricTable:
        """Every column over these strategies; columns left with no score drop out."""
        keep = list(strategies)
        cut = (c.restricted(keep) for c in self)
        return MetricTable({c.name: c for c in cut if c.aggregates})

    def aggregates(self) -> dict[str, dict[str, float]]:
        return {n: c.aggregates for n, c in self.columns.items()}

    def higher_is_better(self) -> set[str]:
        return {n for n, c in self.columns.items() if not c.lower_is_better}

    def labels(self) -> dict[str, str]:
        return {n: c.label for n, c in self.columns.items()}
