"""Downstream accuracies per strategy: upload (all or nothing), clear, and the page section.

A file (CSV, JSON array or JSONL) has one row per strategy and seed: ``strategy`` (a name of
the project), ``accuracy`` (0-1, or 0-100: when any value is above 1 every value is read as a
percentage and divided by 100; a file that mixes the two scales, i.e. holds a value above 1
and a fraction strictly between 0 and 1, is refused at the fraction's line) and an optional
integer ``seed`` (default: 0, 1, 2... per strategy in file order). An upload replaces the
stored accuracies of the strategies it names.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.ingest.formats import decode_rows
from app.ingest.read import check_size
from app.ingest.records import UploadError
from app.metrics.table import MetricTable
from app.models import Accuracy, Scan, Strategy
from app.scans.report import ScanReport
from app.schemas.results import AccuracyRow, AccuracySection, AccuracyUploadResult, SeedAccuracy
from app.services.projects import get_project_row
from app.services.selectors import Trained, evidence_note, mix_rows, scan_model_time, with_costs
from app.stats.agreement import evaluate_top_picks
from app.stats.recommendation import RECOMMENDATION, report_ranking


@dataclass(frozen=True)
class AccuracyEntry:
    line: int
    strategy: str
    seed: int
    value: float


def parse_accuracies(filename: str, data: bytes, *, known: set[str]) -> list[AccuracyEntry]:
    """Rows of an accuracy file; raises UploadError naming the file, line and field."""
    from app.services.uploads import upload_limits

    _, rows = decode_rows(filename, data, upload_limits())
    entries: list[AccuracyEntry] = []
    seen: dict[tuple[str, int], int] = {}
    next_seed: dict[str, int] = defaultdict(int)
    for line, row in rows:
        name = _strategy(filename, line, row, known)
        seed = _seed(filename, line, row.get("seed"), next_seed[name])
        next_seed[name] = max(next_seed[name], seed + 1)
        if (name, seed) in seen:
            message = f"strategy '{name}' seed {seed} already given on line {seen[(name, seed)]}"
            raise UploadError(filename, message, line=line, field="seed")
        seen[(name, seed)] = line
        entries.append(AccuracyEntry(line, name, seed, _accuracy(filename, line, row)))
    _check_one_scale(filename, entries)
    return entries


def _check_one_scale(filename: str, entries: list[AccuracyEntry]) -> None:
    """Refuse 0-1 shares next to 0-100 percentages instead of silently rescaling one kind."""
    percent = next((e for e in entries if e.value > 1), None)
    share = next((e for e in entries if 0 < e.value < 1), None)
    if percent is None or share is None:
        return
    message = (
        f"accuracy {share.value:g} is a 0-1 share, but line {percent.line} has "
        f"{percent.value:g}, a 0-100 percentage; write every accuracy on the same scale"
    )
    raise UploadError(filename, message, line=share.line, field="accuracy")


def _strategy(filename: str, line: int, row: dict[str, Any], known: set[str]) -> str:
    name = row.get("strategy")
    if not isinstance(name, str) or not name.strip():
        raise UploadError(filename, "a strategy name is required", line=line, field="strategy")
    name = name.strip()
    if name not in known:
        some = ", ".join(sorted(known)[:8]) or "none yet"
        message = f"no strategy named '{name}' in this project (strategies: {some})"
        raise UploadError(filename, message, line=line, field="strategy")
    return name


def _seed(filename: str, line: int, value: Any, default: int) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        seed = int(str(value).strip())
    except ValueError:
        seed = -1
    if isinstance(value, bool) or seed < 0:
        raise UploadError(
            filename, f"seed must be a whole number >= 0, got {value!r}", line=line, field="seed"
        )
    return seed


def _accuracy(filename: str, line: int, row: dict[str, Any]) -> float:
    raw = row.get("accuracy")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise UploadError(filename, "an accuracy is required", line=line, field="accuracy")
    try:
        value = float(str(raw).strip().removesuffix("%")) if not isinstance(raw, bool) else -1.0
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 <= value <= 100:
        message = f"accuracy must be a number from 0 to 1 (or 0 to 100), got {raw!r}"
        raise UploadError(filename, message, line=line, field="accuracy")
    return value


def store_accuracies(
    session: Session, *, project_id: int, filename: str, data: bytes
) -> AccuracyUploadResult:
    """Parse the whole file first, then replace the named strategies' accuracies."""
    get_project_row(session, project_id=project_id)
    check_size(filename, len(data), int(get_settings().max_upload_mb * 1024 * 1024))
    ids = dict(
        session.execute(
            select(Strategy.name, Strategy.id).where(Strategy.project_id == project_id)
        ).all()
    )
    entries = parse_accuracies(filename, data, known=set(ids))
    percent = any(e.value > 1 for e in entries)
    names = sorted({e.strategy for e in entries})
    session.execute(delete(Accuracy).where(Accuracy.strategy_id.in_([ids[n] for n in names])))
    session.add_all(
        Accuracy(
            project_id=project_id,
            strategy_id=ids[e.strategy],
            seed=e.seed,
            accuracy=e.value / 100 if percent else e.value,
        )
        for e in entries
    )
    session.flush()
    note = (
        "Some accuracy is above 1, so all were read as percentages and divided by 100."
        if percent
        else "All accuracies are between 0 and 1 and were read as fractions."
    )
    return AccuracyUploadResult(
        filename=filename, n_rows=len(entries), strategies=names, percent=percent, note=note
    )


def clear_accuracies(session: Session, *, project_id: int) -> int:
    """Delete every stored accuracy of the project; returns how many rows went."""
    get_project_row(session, project_id=project_id)
    result = session.execute(delete(Accuracy).where(Accuracy.project_id == project_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def list_accuracies(session: Session, *, project_id: int) -> list[AccuracyRow]:
    get_project_row(session, project_id=project_id)
    return accuracy_rows(session, project_id=project_id)


def accuracy_rows(session: Session, *, project_id: int) -> list[AccuracyRow]:
    """Per strategy: mean and spread across seeds, best mean first."""
    rows = session.execute(
        select(Strategy.name, Strategy.id, Accuracy.seed, Accuracy.accuracy, Accuracy.validation_id)
        .join(Strategy, Strategy.id == Accuracy.strategy_id)
        .where(Accuracy.project_id == project_id)
        .order_by(Strategy.id, Accuracy.seed)
    ).all()
    seeds: dict[tuple[str, int], list[SeedAccuracy]] = defaultdict(list)
    for name, sid, seed, acc, vid in rows:
        seeds[(name, sid)].append(SeedAccuracy(seed=seed, accuracy=acc, validation_id=vid))
    out = []
    for (name, sid), items in seeds.items():
        values = [s.accuracy for s in items]
        mean = sum(values) / len(values)
        std = _std(values, mean)
        out.append(
            AccuracyRow(
                strategy=name, strategy_id=sid, mean=mean, std=std, n_seeds=len(values), seeds=items
            )
        )
    return sorted(out, key=lambda r: (-r.mean, r.strategy))


def _std(values: list[float], mean: float) -> float | None:
    if len(values) < 2:
        return None
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def accuracy_section(
    session: Session,
    *,
    project_id: int,
    report: ScanReport | None,
    extra: MetricTable | None = None,
    scan: Scan | None = None,
) -> AccuracySection | None:
    """The stored accuracies and, per selector (the report's metrics, its recommendation,
    the imported metrics in ``extra`` marked ``imported``, the project's trained
    per-question mixes), the fate of its pick and its model time in ``scan``."""
    rows = accuracy_rows(session, project_id=project_id)
    if not rows:
        return None
    trained = [Trained(r.strategy, r.mean) for r in rows]
    picks = _report_picks(report, rows, extra or MetricTable())
    time = scan_model_time(session, scan)
    picks = with_costs(picks, time, report.primary if report else None)
    accuracies = {r.strategy: [s.accuracy for s in r.seeds] for r in rows}
    picks += mix_rows(session, project_id=project_id, accuracies=accuracies)
    return AccuracySection(rows=rows, top_picks=picks, evidence_note=evidence_note(trained, picks))


def _report_picks(
    report: ScanReport | None,
    rows: list[AccuracyRow],
    extra: MetricTable,
) -> list[dict[str, Any]]:
    picks: list[dict[str, Any]] = []
    if report:
        per_metric = report.per_metric
        scores = {
            m: {r["name"]: r["mean"] for r in per_metric[m].strategies if r["mean"] is not None}
            for m in report.metrics
        }
        higher = {m for m in scores if not per_metric[m].lower_is_better}
        accuracies = {r.strategy: [s.accuracy for s in r.seeds] for r in rows}
        picks = evaluate_top_picks(scores, accuracies, higher_is_better=higher)["metrics"]
        picks = _recommendation_pick(report, accuracies) + picks
        if extra:
            scores, higher = extra.aggregates(), extra.higher_is_better()
            more = evaluate_top_picks(scores, accuracies, higher_is_better=higher)
            picks += [row | {"imported": extra[row["metric"]].imported} for row in more["metrics"]]
    return picks


def _recommendation_pick(report: ScanReport, accuracies: dict[str, list[float]]) -> list[dict]:
    """The product's own pick (the primary metric with the correctness rule) as the first
    row of the agreement table, scored like a metric by ``product_ranking``; none without a
    recommendation."""
    ranking = report_ranking(report.model_dump())
    if not ranking:
        return []
    row = evaluate_top_picks({RECOMMENDATION: ranking}, accuracies)["metrics"][0]
    return [row | {"recommendation": True, "top": (report.recommendation or {}).get("top")}]
