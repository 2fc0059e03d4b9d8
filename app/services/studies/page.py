"""The study page: gather every project's scores and accuracies, compute, and describe."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.metrics import registry
from app.models import Project
from app.schemas.studies import StudyPage, StudyProjectInfo, StudyRule
from app.services.errors import BadInput
from app.services.studies.crud import get_study_row, study_read
from app.services.studies.sources import (
    MetricScores,
    projects_accuracies,
    projects_metric_scores,
)
from app.stats.recommendation import MIX, RECOMMENDATION
from app.stats.studies import (
    RULES,
    MetricInput,
    ProjectInput,
    StudyResult,
    compute_study,
    mean_accuracies,
)
from app.stats.studies import spread as spread_of


def parse_thresholds(raw: str | None) -> list[float] | None:
    """``?thresholds=2,4,6`` from the URL (None: the study's own)."""
    if raw is None or not raw.strip():
        return None
    try:
        values = [float(v) for v in raw.split(",") if v.strip()]
    except ValueError as exc:
        raise BadInput(
            f"thresholds must be numbers separated by commas, got {raw!r}", field="thresholds"
        ) from exc
    if len(values) > 6 or any(not 0 <= v <= 100 for v in values):
        raise BadInput(
            "thresholds: at most 6 spreads in accuracy points, from 0 to 100", field="thresholds"
        )
    return sorted(set(values))


def _metric_order(names: set[str]) -> list[str]:
    """The recommendation and the per-question mix first, familiarity metrics, imported ones
    by name, descriptive ones."""
    first = [m for m in (RECOMMENDATION, MIX) if m in names]
    names = names - set(first)
    known = registry.familiarity(names)
    tail = [m for m in registry.ordered(names) if m not in known]
    return first + known + sorted(names - set(known) - set(tail)) + tail


def gather(session: Session, project_ids: list[int]) -> tuple[list[ProjectInput], list[Any]]:
    """The study's inputs through the sources seam, and each project's row."""
    projects = {
        p.id: p for p in session.scalars(select(Project).where(Project.id.in_(project_ids)))
    }
    wanted = [pid for pid in project_ids if pid in projects]
    scores_of = projects_metric_scores(session, wanted)
    accuracies = projects_accuracies(session, wanted)
    inputs, infos = [], []
    for pid in wanted:
        scores = scores_of[pid]
        inputs.append(
            ProjectInput(
                project_id=pid,
                name=projects[pid].name,
                accuracies=accuracies[pid],
                metrics={m: _metric_input(s) for m, s in scores.items()},
            )
        )
        infos.append((projects[pid], scores))
    return inputs, infos


def _metric_input(scores: MetricScores) -> MetricInput:
    samples = scores.samples or [scores.per_strategy]
    return MetricInput(lower_is_better=scores.lower_is_better, samples=samples)


def _project_info(
    project: Project, scores: dict[str, MetricScores], given: ProjectInput
) -> StudyProjectInfo:
    acc = mean_accuracies(given.accuracies)
    return StudyProjectInfo(
        id=project.id,
        name=project.name,
        target_model=project.target_model,
        n_strategies=len(acc),
        accuracy=acc,
        spread=spread_of(list(acc.values())),
        oracle=max(acc.values()) if acc else None,
        random=sum(acc.values()) / len(acc) if acc else None,
        n_seeds={s: len(v) for s, v in given.accuracies.items()},
        sources={m: f"{s.source}: {s.detail}" for m, s in scores.items()},
    )


def get_study_page(session: Session, *, study_id: int, thresholds: str | None = None) -> StudyPage:
    """The study page and its JSON twin; ``thresholds`` from the URL override the study's."""
    study = study_read(session, get_study_row(session, study_id=study_id))
    cuts = parse_thresholds(thresholds)
    cuts = study.thresholds if cuts is None else cuts
    t0 = time.perf_counter()
    inputs, infos = gather(session, study.project_ids)
    metrics = _metric_order({m for p in inputs for m in p.metrics})
    result = compute_study(inputs, metrics=metrics, thresholds=cuts)
    sources: dict[str, set[str]] = {}
    labels: dict[str, str] = {}
    for _, scores in infos:
        for m, s in scores.items():
            sources.setdefault(m, set()).add(s.source)
            if m not in labels or s.source == "imported":  # a name imported anywhere says so
                labels[m] = s.label or registry.label_of(m)
    labels = {m: labels.get(m, registry.label_of(m)) for m in metrics}
    return StudyPage(
        study=study,
        thresholds=result.thresholds,
        metrics=metrics,
        labels=labels,
        sources={m: " + ".join(sorted(v)) for m, v in sources.items()},
        summary=result.metrics,
        rows=result.rows,
        projects=[_project_info(p, s, i) for (p, s), i in zip(infos, inputs, strict=True)],
        rules=[StudyRule(name=n, text=t) for n, t in RULES],
        compute_s=round(time.perf_counter() - t0, 4),
        chart=study_chart(result, labels),
    )


def study_chart(result: StudyResult, labels: dict[str, str]) -> dict[str, Any] | None:
    """What the page draws: per metric pick/oracle/random over all projects, and per
    project the spread against the metric's Spearman rho."""
    if not result.metrics:
        return None
    everything = {m.metric: m.subsets[0] for m in result.metrics}
    return {
        "kind": "study",
        "metrics": [m.metric for m in result.metrics],
        "labels": {m.metric: labels.get(m.metric, m.metric) for m in result.metrics},
        "pick": [everything[m].pick_accuracy for m in everything],
        "oracle": [everything[m].oracle for m in everything],
        "random": [everything[m].random for m in everything],
        "points": {
            m.metric: [
                [r.spread, r.spearman, r.project]
                for r in result.rows
                if r.metric == m.metric and r.spearman is not None
            ]
            for m in result.metrics
        },
    }
