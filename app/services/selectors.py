"""Which selector to trust: the pieces every "selector against trained accuracy" table shares
beyond a metric's own row (app.stats.agreement.top_pick): the model time each selector cost,
the rows of per-question mixes, and a plain statement when the evidence is too thin to tell
the selectors apart.

A per-question mix is a strategy of its own (app.services.mixes); as a selector it ranks like
the recommendation does: the mix first, then the strategies in the order of the metric it
was built from, so its pick is the mix, its regret how far the mix trained below the best
trained strategy (0 when it trained best), and its cost the model time of that metric in
its source scan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.metrics import registry
from app.models import Job, Scan, ScanAggregate, Strategy
from app.stats.agreement import accuracy_table, top_pick
from app.stats.recommendation import product_ranking

# Below this many trained strategies a rank correlation says little (Spearman over 3 points
# is +-1 or +-0.5 by construction).
MIN_STRATEGIES = 4
SIGNIFICANT_P = 0.05


@dataclass(frozen=True)
class Trained:
    """One trained strategy: its mean accuracy and, where known, its 95% interval."""

    strategy: str
    mean: float
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class ModelTime:
    """What a scan recorded of its model time: seconds per phase and items per phase."""

    timings: Mapping[str, float]
    counts: Mapping[str, int]

    @classmethod
    def of_summary(cls, summary: Mapping[str, Any] | None) -> ModelTime:
        summary = summary or {}
        timings = {str(k): float(v) for k, v in (summary.get("timings") or {}).items()}
        counts = {str(k): int(v) for k, v in (summary.get("counts") or {}).items()}
        return cls(timings, counts)

    def seconds(self, metric: str) -> float | None:
        return registry.model_seconds(metric, self.timings, self.counts)


def scan_model_time(session: Session, scan: Scan | int | None) -> ModelTime:
    """The scan's (or scan id's) recorded model time, with ``filled_from_earlier``; nothing
    for no scan."""
    if isinstance(scan, int):
        scan = session.get(Scan, scan)
    if scan is None:
        return ModelTime({}, {})
    return filled_from_earlier(session, scan, ModelTime.of_summary(scan.summary))


def filled_from_earlier(session: Session, scan: Scan, time: ModelTime) -> ModelTime:
    """A phase this scan served wholly from stored values costs what it cost when it was
    scored: the rate of the project's newest earlier scan of the same model that scored
    items of that phase (for own answers, else of its newest own-answers job), over this
    scan's items."""
    timings, counts = dict(time.timings), dict(time.counts)
    served = [
        p
        for p in timings
        if counts.get(f"{p} items") and counts.get(f"{p} cached", 0) >= counts[f"{p} items"]
    ]
    if not served:
        return time
    earlier = session.scalars(
        select(Scan.summary)
        .where(
            Scan.project_id == scan.project_id,
            Scan.model_name == scan.model_name,
            Scan.id < scan.id,
            Scan.finished_at.is_not(None),
        )
        .order_by(Scan.id.desc())
        .limit(20)
    ).all()
    rates = {}
    for summary in reversed(earlier):  # oldest first: the newest rate of a phase wins
        then = ModelTime.of_summary(summary)
        for phase in served:
            items = then.counts.get(f"{phase} items", 0)
            scored = items - then.counts.get(f"{phase} cached", 0)
            if phase in then.timings and scored > 0:
                rates[phase] = then.timings[phase] / scored
    if "generating" in served and "generating" not in rates:
        rates |= _own_answers_rate(session, scan.project_id)
    for phase, rate in rates.items():
        timings[phase] = rate * counts[f"{phase} items"]
        counts[f"{phase} cached"] = 0
    return ModelTime(timings, counts)


def _own_answers_rate(session: Session, project_id: int) -> dict[str, float]:
    """Seconds per generated answer of the project's newest own-answers job that generated
    some (the demo's and an upload's own answers are made by that job, not by a scan)."""
    results = session.scalars(
        select(Job.result)
        .where(Job.project_id == project_id, Job.kind == "generate_own_answers")
        .order_by(Job.id.desc())
        .limit(20)
    ).all()
    for result in results:
        generated, seconds = (result or {}).get("generated"), (result or {}).get("generating_s")
        if generated and seconds is not None:
            return {"generating": float(seconds) / int(generated)}
    return {}


def with_costs(
    rows: Iterable[dict[str, Any]], time: ModelTime, primary: str | None
) -> list[dict[str, Any]]:
    """Each row with ``cost_s``: its metric's model seconds in the scan (the recommendation's
    is its primary metric's). A metric's cost follows from what it needs of the model
    (``registry.model_seconds``): an imported metric needs nothing Familiar ran, so None,
    with no question asked about its kind."""
    out = []
    for row in rows:
        name = primary if row.get("recommendation") else row.get("metric")
        out.append(row | {"cost_s": None if name is None else time.seconds(str(name))})
    return out


def trained_mixes(session: Session, *, project_id: int, names: Iterable[str]) -> list[Any]:
    """(name, ``Strategy.mix`` record) of the project's per-question mixes among ``names``,
    newest first."""
    return list(
        session.execute(
            select(Strategy.name, Strategy.mix)
            .where(
                Strategy.project_id == project_id,
                Strategy.mix.is_not(None),
                Strategy.name.in_(list(names)),
            )
            .order_by(Strategy.id.desc())
        ).all()
    )


def mix_ranking(session: Session, name: str, record: Mapping[str, Any]) -> dict[str, float]:
    """A mix as a selector that ranks, like the recommendation: ``{strategy: rank}`` with the
    mix first, then its source scan's strategies in the order of the metric it was built
    from (app.stats.recommendation.product_ranking)."""
    return mix_rankings(session, [(name, record)])[0]


def mix_rankings(
    session: Session, mixes: Sequence[tuple[str, Mapping[str, Any]]]
) -> list[dict[str, float]]:
    """``mix_ranking`` of each (name, record), their scans' means read in one query."""
    wanted = {(record.get("scan_id"), str(record.get("metric", ""))) for _, record in mixes}
    rows = session.execute(
        select(ScanAggregate.scan_id, ScanAggregate.metric, Strategy.name, ScanAggregate.mean)
        .join(Strategy, Strategy.id == ScanAggregate.strategy_id)
        .where(
            ScanAggregate.scan_id.in_({scan for scan, _ in wanted if scan is not None}),
            ScanAggregate.metric.in_({metric for _, metric in wanted}),
            ScanAggregate.mean.is_not(None),
        )
    ).all()
    means: dict[tuple[Any, str], dict[str, float]] = defaultdict(dict)
    for scan_id, metric, strategy, mean in rows:
        means[scan_id, metric][strategy] = float(mean)
    out = []
    for name, record in mixes:
        metric = str(record.get("metric", ""))
        scores = means.get((record.get("scan_id"), metric), {})
        sign = 1.0 if registry.lower_is_better(metric) else -1.0
        order = sorted(scores, key=lambda s: (sign * scores[s], s))
        out.append(product_ranking(order, name, ()))
    return out


def mix_label(record: Mapping[str, Any]) -> str:
    metric = str(record.get("metric", ""))
    return f"Per-question {record.get('label') or registry.label_of(metric)} mix"


def mix_rows(
    session: Session, *, project_id: int, accuracies: Mapping[str, Sequence[float]]
) -> list[dict[str, Any]]:
    """One row per trained per-question mix of the project, scored by ``mix_ranking`` like
    any selector (its pick is the mix; the rank agreement is that of its whole order)."""
    table = accuracy_table(accuracies)
    rows = []
    mixes = trained_mixes(session, project_id=project_id, names=table)
    rankings = mix_rankings(session, mixes) if mixes else []
    for (name, record), ranking in zip(mixes, rankings, strict=True):
        row = top_pick(ranking, table)
        time = scan_model_time(session, record.get("scan_id"))
        rows.append(
            row
            | {
                "metric": f"mix:{name}",
                "label": mix_label(record),
                "origin": "mix",
                "mix": True,
                "lower_is_better": True,
                "source_scan": record.get("scan_id"),
                "best_trained": row["best"],
                "best_accuracy": row["oracle_accuracy"],
                "cost_s": time.seconds(str(record.get("metric", ""))),
            }
        )
    return rows


def evidence_note(trained: Sequence[Trained], rows: Sequence[dict[str, Any]]) -> str | None:
    """A plain sentence when the evidence is too thin to tell the selectors apart; None when
    it is not (or when nothing is trained yet)."""
    if not trained:
        return None
    reasons = []
    if len(trained) < MIN_STRATEGIES:
        reasons.append(
            f"only {len(trained)} strategies were trained, and a rank correlation over so few "
            "cannot tell a good selector from luck"
        )
    ranked = [r for r in rows if r.get("spearman") is not None]
    if ranked and not any((r.get("spearman_p") or 1.0) < SIGNIFICANT_P for r in ranked):
        reasons.append(f"no selector's Spearman correlation is significant (p < {SIGNIFICANT_P})")
    close = _within_best_interval(trained)
    picked = {p for r in rows for p in r.get("picks") or []}
    if close is not None and len(close) > 1 and picked and picked <= close:
        reasons.append(
            f"every selector's pick trained within the best strategy's 95% interval ({len(close)} "
            "strategies do), so on these test questions their picks are not told apart"
        )
    if not reasons:
        return None
    return "The evidence is too thin to tell the selectors apart: " + "; ".join(reasons) + "."


def _within_best_interval(trained: Sequence[Trained]) -> set[str] | None:
    """The strategies whose mean lies inside the best strategy's interval (None when the
    best has no interval)."""
    best = max(trained, key=lambda t: t.mean)
    if best.low is None:
        return None
    return {t.strategy for t in trained if t.mean >= best.low}
