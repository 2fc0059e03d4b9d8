"""Finished scans of one project side by side: ranks, means and what differs in the setup."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.ids import bounded_id
from app.metrics import registry
from app.models import Scan, Strategy
from app.scans.report import ScanReport
from app.schemas.results import (
    CompareCell,
    CompareMetric,
    ComparePage,
    CompareRow,
    ScanRef,
    SettingDiff,
)
from app.services.errors import BadInput
from app.services.projects import get_project_row, project_read
from app.services.results.page import finished_report, finished_scans, scan_ref
from app.stats.agreement import rank_correlation

SPEC_SETTINGS = (
    "metrics",
    "sample",
    "examples",
    "pool",
    "template",
    "dtype",
    "seed",
    "filter_correct",
    "allow_unfiltered_fallback",
    "max_new_tokens",
)


def parse_scan_ids(values: list[str]) -> list[int]:
    """`?scans=3,5` or `?scans=3&scans=5` (a form's checkboxes), in order, without repeats."""
    ids: list[int] = []
    for part in (p.strip() for v in values for p in v.split(",")):
        if not part:
            continue
        scan_id = bounded_id(part)
        if scan_id is None:
            raise BadInput(f"scans must be scan ids separated by commas, got '{part[:40]}'")
        if scan_id not in ids:
            ids.append(scan_id)
    return ids


def get_compare_page(session: Session, *, project_id: int, scan_ids: list[int]) -> ComparePage:
    """Without ids: only the scans to choose from; otherwise at least two finished ones."""
    project = project_read(session, get_project_row(session, project_id=project_id))
    available = finished_scans(session, project_id=project_id)
    if not scan_ids:
        return ComparePage(
            project=project,
            available=available,
            scans=[],
            metrics=[],
            settings_diff=[],
            same_settings=[],
        )
    if len(scan_ids) < 2:
        raise BadInput("choose at least two finished scans to compare")
    loaded = [finished_report(session, project_id=project_id, scan_id=i) for i in scan_ids]
    reports = [r for _, r in loaded]
    diff, same = _settings(session, [s for s, _ in loaded])
    return ComparePage(
        project=project,
        available=available,
        scans=scan_refs([s for s, _ in loaded]),
        metrics=[_metric(m, reports) for m in _metrics(reports)],
        settings_diff=diff,
        same_settings=same,
    )


def _metrics(reports: list[ScanReport]) -> list[str]:
    present = {m for r in reports for m in r.metrics}
    return registry.ordered(present)


def _metric(metric: str, reports: list[ScanReport]) -> CompareMetric:
    rankings = [r.per_metric[metric].ranking if metric in r.per_metric else None for r in reports]
    rows_by_scan = [
        {row["name"]: row for row in ranking["strategies"]} if ranking else {}
        for ranking in rankings
    ]
    names: list[str] = []
    for ranking in rankings:
        for name in ranking["order"] if ranking else []:
            if name not in names:
                names.append(name)
    rows = [CompareRow(strategy=n, cells=_cells(n, rows_by_scan)) for n in names]
    tops = [r["recommendation"]["top"] if r else None for r in rankings]
    agreement = [None] + [_agreement(rows_by_scan[0], other) for other in rows_by_scan[1:]]
    return CompareMetric(
        metric=metric, label=registry.label_of(metric), rows=rows, tops=tops, agreement=agreement
    )


def _agreement(first: dict[str, dict], other: dict[str, dict]) -> dict[str, Any] | None:
    """Rank correlation of two scans' strategy means over the strategies both ranked."""
    common = [n for n in first if n in other and None not in (first[n]["mean"], other[n]["mean"])]
    if not first or not other:
        return None
    corr = rank_correlation([first[n]["mean"] for n in common], [other[n]["mean"] for n in common])
    return {"n_strategies": len(common), **corr}


def _cells(name: str, rows_by_scan: list[dict[str, dict]]) -> list[CompareCell | None]:
    first = rows_by_scan[0].get(name)
    base = first["rank"] if first else None
    cells: list[CompareCell | None] = []
    for rows in rows_by_scan:
        row = rows.get(name)
        if row is None:
            cells.append(None)
            continue
        change = row["rank"] - base if row["rank"] is not None and base is not None else None
        cells.append(
            CompareCell(rank=row["rank"], mean=row["mean"], n=row["n"] or 0, rank_change=change)
        )
    return cells


def _settings(session: Session, scans: list[Scan]) -> tuple[list[SettingDiff], list[SettingDiff]]:
    """Settings that differ between the scans, and those they share."""
    table: dict[str, list[Any]] = {
        "model": [s.model_name for s in scans],
        "model_key": [s.model_key for s in scans],
    }
    for key in SPEC_SETTINGS:
        table[key] = [s.spec.get(key) for s in scans]
    table["strategies"] = [_strategy_names(session, s.spec.get("strategy_ids")) for s in scans]
    for key in ("exemplars_filtered",):
        table[key] = [((s.summary or {}).get("settings") or {}).get(key) for s in scans]
    rows = [SettingDiff(setting=k, values=v) for k, v in table.items()]
    diff = [r for r in rows if any(v != r.values[0] for v in r.values)]
    same = [r for r in rows if r not in diff]
    return diff, same


def _strategy_names(session: Session, ids: list[int] | None) -> list[str]:
    if not ids:
        return []
    return list(
        session.scalars(select(Strategy.name).where(Strategy.id.in_(ids)).order_by(Strategy.id))
    )


def scan_refs(scans: list[Scan]) -> list[ScanRef]:
    return [scan_ref(s.id, s.model_name, s.created_at, s.spec) for s in scans]
