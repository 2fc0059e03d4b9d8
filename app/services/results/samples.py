"""Repeated samples of a scan: how often each strategy is the pick across K samples."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.metrics import registry
from app.models import Scan
from app.scans.report import ScanReport
from app.services.scan_report import load_values, load_vectors, sample_scores
from app.stats.samples import picks_from_means


def scan_samples(scan: Scan) -> list[list[str]]:
    """The scan's K disjoint samples as question keys ([] for a single sample)."""
    samples = (scan.summary or {}).get("samples") or []
    return [[str(k) for k in s] for s in samples] if len(samples) > 1 else []


def sample_section(
    session: Session, *, scan: Scan, report: ScanReport | None
) -> dict[str, Any] | None:
    """Per familiarity metric: each sample's pick, its means, the votes and their shares."""
    samples = scan_samples(scan)
    if report is None or not samples:
        return None
    values, _ = load_values(session, scan_id=scan.id)
    vectors = load_vectors(session, scan_id=scan.id)
    names = registry.familiarity(report.metrics)
    return {
        "n_samples": len(samples),
        "sample_size": len(samples[0]),
        "metrics": {
            m: picks_from_means(
                sample_scores(m, values[m], vectors.get(m, {}), samples),
                lower_is_better=report.per_metric[m].lower_is_better,
            )
            for m in names
        },
    }
