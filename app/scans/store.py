"""Store a finished scan: per-response values, per-strategy aggregates, the report and the
run metadata, in the caller's transaction (the worker's, fenced on its job lease).

Idempotent: rows a previous attempt left are replaced, so storing twice gives one copy.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from app.backends import IMPLICIT_TAG, settings_key_suffix
from app.config import get_settings
from app.models import Scan, ScanAggregate, ScanValue, ScanVector, Strategy
from app.scans.output import ScanOutput
from app.scans.report import ScanReport
from app.services.own_answers import save_own_answers
from app.services.scan_report import build_report, load_values, load_vectors

AGG_FIELDS = ("n", "mean", "median", "std", "ci_low", "ci_high", "rank")


def save_scan_result(
    session: Session,
    *,
    scan_id: int,
    output: ScanOutput,
    model_key: str,
    seed: int,
    own_answers_key: str | None = None,
) -> ScanReport:
    scan = session.get(Scan, scan_id)
    if scan is None:
        raise LookupError(f"scan {scan_id} no longer exists")
    names = strategy_names(session, scan)
    for table in (ScanValue, ScanAggregate, ScanVector):
        session.execute(delete(table).where(table.scan_id == scan_id))
    for table, make in ((ScanValue, value_rows), (ScanVector, vector_rows)):
        rows = list(make(scan_id, names, output))
        if rows:
            session.execute(insert(table), rows)
    session.flush()
    values, truncated = load_values(session, scan_id=scan_id)
    report = ScanReport.model_validate(
        build_report(
            values,
            truncated=truncated,
            vectors=load_vectors(session, scan_id=scan_id),
            seed=seed,
            correct_share=output.correct_share,
            correct_margin=get_settings().recommend_correct_margin,
        )
    )
    aggregates = list(aggregate_rows(scan_id, names, report))
    if aggregates:
        session.execute(insert(ScanAggregate), aggregates)
    if own_answers_key and output.own_answers:
        own = {int(k): (a["text"], a["correct"]) for k, a in output.own_answers.items()}
        save_own_answers(session, model_key=model_key, settings_key=own_answers_key, answers=own)
    scan.report = report.model_dump(mode="json")
    scan.primary_metric, scan.recommended, scan.evidence = outcome_columns(scan.report)
    scan.summary = run_summary(output)
    scan.model_key = model_key
    scan.finished_at = datetime.now(UTC)
    session.flush()
    return report


def outcome_columns(report: dict[str, Any] | None) -> tuple[str | None, str | None, str | None]:
    """(primary metric, recommended strategy, evidence) of a stored report."""
    rec = (report or {}).get("recommendation") or {}
    return (report or {}).get("primary"), rec.get("top"), rec.get("evidence")


def own_answers_settings_key(output: ScanOutput) -> str:
    """The settings key own answers are stored under (the scan's generation settings)."""
    s, tag = output.settings, output.model.get("backend", IMPLICIT_TAG)
    key = f"scan|{s['template']}|greedy|max_new={s['max_new_tokens']}|{output.model['dtype']}"
    return key + settings_key_suffix(tag)


def strategy_names(session: Session, scan: Scan) -> dict[str, int]:
    ids = list((scan.spec or {}).get("strategy_ids") or [])
    query = select(Strategy.name, Strategy.id).where(Strategy.project_id == scan.project_id)
    if ids:
        query = query.where(Strategy.id.in_(ids))
    return dict(session.execute(query).all())


def value_rows(scan_id: int, names: dict[str, int], output: ScanOutput) -> Iterator[dict]:
    for strategy, metrics in output.values.items():
        for metric, rows in metrics.items():
            for r in rows:
                value = r.value if r.value is not None and math.isfinite(r.value) else None
                yield {
                    "scan_id": scan_id,
                    "strategy_id": names[strategy],
                    "question_id": int(r.question_key),
                    "metric": metric,
                    "value": value,
                    "n_tokens": int(r.n_tokens or 0),
                    "truncated": bool(r.truncated),
                }


def vector_rows(scan_id: int, names: dict[str, int], output: ScanOutput) -> Iterator[dict]:
    """The rows' vectors (GRACE's projected gradients) as float32 little-endian bytes."""
    for strategy, metrics in output.values.items():
        for metric, rows in metrics.items():
            for r in rows:
                vector = getattr(r, "vector", None)
                if vector is None:
                    continue
                data = np.asarray(vector, dtype="<f4")
                yield {
                    "scan_id": scan_id,
                    "strategy_id": names[strategy],
                    "question_id": int(r.question_key),
                    "metric": metric,
                    "dim": int(data.size),
                    "data": data.tobytes(),
                }


def aggregate_rows(scan_id: int, names: dict[str, int], report: ScanReport) -> Iterator[dict]:
    """One row per (strategy, metric) from the report's rankings (the numbers pages show)."""
    for metric, data in report.per_metric.items():
        for r in data.strategies:
            yield {
                "scan_id": scan_id,
                "strategy_id": names[r["name"]],
                "metric": metric,
                **{k: _finite(r.get(k)) for k in AGG_FIELDS},
            }


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def run_summary(output: ScanOutput) -> dict[str, Any]:
    """How the scan ran: model, settings, warnings, timings, counts, sample, SPPL examples."""
    own = output.own_answers
    return {
        "warnings": output.warnings,
        "model": output.model,
        "settings": output.settings,
        "timings": output.timings,
        "counts": output.counts,
        "sample": [int(k) for k in output.sample],
        "exemplars": output.exemplars,
        "samples": [[int(k) for k in s] for s in output.samples],
        "exemplar_sources": output.exemplar_sources,
        "correct_share": output.correct_share,
        "own_answers": {"n": len(own), "n_correct": sum(1 for a in own.values() if a["correct"])},
    }
