"""Downloads of a study: the page JSON, the summary table and the per-project table (CSV)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.services.csv_cells import csv_table
from app.services.results.exports import CSV, JSON, Download, slug
from app.services.studies.page import get_study_page


def _name(page_name: str, study_id: int, what: str) -> str:
    return f"study-{study_id}-{slug(page_name, 'study')}-{what}"


def study_json(session: Session, *, study_id: int, thresholds: str | None = None) -> Download:
    page = get_study_page(session, study_id=study_id, thresholds=thresholds)
    name = _name(page.study.name, study_id, "study.json")
    return Download(name, JSON, page.model_dump_json(indent=1))


SUMMARY_HEADER = [
    "metric",
    "label",
    "source",
    "threshold",
    "n_projects",
    "pick_accuracy",
    "oracle",
    "random",
    "n_correlated",
    "spearman",
    "weighted_spearman",
    "kendall",
    "weighted_kendall",
]


def summary_csv(session: Session, *, study_id: int, thresholds: str | None = None) -> Download:
    """Per metric and spread threshold (empty: every project) the summary row."""
    page = get_study_page(session, study_id=study_id, thresholds=thresholds)
    rows = (
        [
            m.metric,
            page.labels[m.metric],
            page.sources.get(m.metric, ""),
            s.threshold,
            s.n_projects,
            s.pick_accuracy,
            s.oracle,
            s.random,
            s.n_correlated,
            s.spearman,
            s.weighted_spearman,
            s.kendall,
            s.weighted_kendall,
        ]
        for m in page.summary
        for s in m.subsets
    )
    return Download(
        _name(page.study.name, study_id, "summary.csv"), CSV, csv_table(SUMMARY_HEADER, rows)
    )


ROWS_HEADER = [
    "project_id",
    "project",
    "metric",
    "status",
    "n_strategies",
    "picks",
    "pick_accuracy",
    "oracle",
    "random",
    "regret",
    "best",
    "spread",
    "spearman",
    "kendall",
    "n_samples",
    "missing_strategies",
]


def projects_csv(session: Session, *, study_id: int, thresholds: str | None = None) -> Download:
    """Per project and metric every number behind the summary (picks joined by ' | ',
    samples by ' / ')."""
    page = get_study_page(session, study_id=study_id, thresholds=thresholds)
    rows = (
        [
            r.project_id,
            r.project,
            r.metric,
            r.status,
            r.n_strategies,
            " / ".join(" | ".join(p) for p in r.picks),
            r.pick_accuracy,
            r.oracle,
            r.random,
            r.regret,
            " | ".join(r.best),
            r.spread,
            r.spearman,
            r.kendall,
            r.n_samples,
            " | ".join(r.missing_strategies),
        ]
        for r in page.rows
    )
    return Download(
        _name(page.study.name, study_id, "projects.csv"), CSV, csv_table(ROWS_HEADER, rows)
    )
