"""The validation page: progress and curves per run, evaluations, and the results (accuracy
per strategy with spread over seeds and an interval over questions, paired comparison,
metric against accuracy, each metric's top pick against the best-trained strategy)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Evaluation,
    Job,
    Strategy,
    TestSet,
    TrainingPoint,
    Validation,
    ValidationRun,
)
from app.schemas.jobs import JobRead
from app.schemas.validations import (
    CurvePoint,
    EvaluationRead,
    RunRead,
    StrategyChoice,
    ValidationList,
    ValidationPage,
    ValidationRead,
    ValidationsIndex,
)
from app.services.errors import NotFound
from app.services.jobs import job_read
from app.services.projects import get_project_row, project_read
from app.services.results.page import project_colors
from app.services.validations.outcome import validation_outcomes
from app.services.validations.results import correctness, results
from app.services.validations.testsets import test_set_read

MAX_CURVE_POINTS = 400


def get_validation_row(session: Session, *, project_id: int, validation_id: int) -> Validation:
    validation = session.get(Validation, validation_id, populate_existing=True)
    if validation is None or validation.project_id != project_id:
        raise NotFound(f"validation {validation_id} not found in project {project_id}")
    return validation


def validation_read(validation: Validation) -> ValidationRead:
    return ValidationRead(
        id=validation.id,
        project_id=validation.project_id,
        scan_id=validation.scan_id,
        test_set_id=validation.test_set_id,
        label=validation.label,
        status=validation.status,
        error=validation.error,
        spec=validation.spec,
        summary=_public_summary(validation.summary),
        created_at=validation.created_at,
        finished_at=validation.finished_at,
    )


def _public_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary with the id lists shortened to their counts (the split is in the export)."""
    out = {k: v for k, v in summary.items() if not k.endswith("_question_ids")}
    for key in ("train", "val", "test"):
        out[f"n_{key}"] = len(summary.get(f"{key}_question_ids", []))
    return out


def list_validations(session: Session, *, project_id: int) -> ValidationList:
    get_project_row(session, project_id=project_id)
    rows = session.scalars(
        select(Validation).where(Validation.project_id == project_id).order_by(Validation.id.desc())
    ).all()
    outcomes = validation_outcomes(session, list(rows))
    reads = [validation_read(v).model_copy(update={"outcome": outcomes.get(v.id)}) for v in rows]
    return ValidationList(validations=reads)


def _thin(points: list[CurvePoint]) -> list[CurvePoint]:
    if len(points) <= MAX_CURVE_POINTS:
        return points
    every = len(points) / MAX_CURVE_POINTS
    kept = [points[int(i * every)] for i in range(MAX_CURVE_POINTS)]
    return kept[:-1] + [points[-1]]


def _runs(session: Session, validation: Validation, names: dict[int, str]) -> list[RunRead]:
    runs = session.scalars(
        select(ValidationRun)
        .where(ValidationRun.validation_id == validation.id)
        .order_by(ValidationRun.id)
    ).all()
    points: dict[tuple[int, str], list[CurvePoint]] = defaultdict(list)
    for p in session.scalars(
        select(TrainingPoint)
        .where(TrainingPoint.run_id.in_([r.id for r in runs]))
        .order_by(TrainingPoint.step)
    ):
        points[(p.run_id, p.kind)].append(
            CurvePoint(
                step=p.step,
                loss=p.loss,
                tokens_per_s=p.tokens_per_s,
                val_loss=p.val_loss,
                val_accuracy=p.val_accuracy,
            )
        )
    jobs = _jobs(session, [r.job_id for r in runs])
    base = f"/api/v1/projects/{validation.project_id}/validations/{validation.id}"
    return [
        RunRead(
            id=r.id,
            strategy_id=r.strategy_id,
            strategy=names.get(r.strategy_id, "?"),
            seed=r.seed,
            status=r.status,
            rung=r.rung,
            until_step=r.until_step,
            steps=max(r.steps, max((p.step for p in points[(r.id, "step")]), default=0)),
            best_step=r.best_step,
            best_val_accuracy=r.best_val_accuracy,
            best_val_loss=r.best_val_loss,
            stopped_reason=r.stopped_reason,
            adapter_url=f"{base}/runs/{r.id}/adapter.zip" if r.adapter_dir else None,
            job=jobs.get(r.job_id) if r.job_id else None,
            curve=_thin(points[(r.id, "step")]),
            checkpoints=points[(r.id, "checkpoint")],
            result=r.result,
        )
        for r in runs
    ]


def _jobs(session: Session, ids: list[int | None]) -> dict[int, Any]:
    wanted = [i for i in ids if i is not None]
    rows = (
        session.scalars(
            select(Job).where(Job.id.in_(wanted)).execution_options(populate_existing=True)
        ).all()
        if wanted
        else []
    )
    return {j.id: job_read(j) for j in rows}


def _evaluations(
    session: Session, validation: Validation, runs: list[RunRead]
) -> list[EvaluationRead]:
    from app.stats.validation import accuracy_interval

    evals = session.scalars(
        select(Evaluation).where(Evaluation.validation_id == validation.id).order_by(Evaluation.id)
    ).all()
    by_run = {r.id: r for r in runs}
    jobs = _jobs(session, [e.job_id for e in evals])
    right = correctness(session, [e.id for e in evals])
    out = []
    for e in evals:
        run = by_run.get(e.run_id) if e.run_id else None
        values = list(right.get(e.id, {}).values())
        lo, hi = accuracy_interval(values) if values else (None, None)
        out.append(
            EvaluationRead(
                id=e.id,
                run_id=e.run_id,
                strategy=run.strategy if run else None,
                seed=run.seed if run else None,
                extractor=e.extractor,
                n=e.n,
                accuracy=e.accuracy,
                ci_low=lo,
                ci_high=hi,
                seconds=e.seconds,
                tokens_per_s=e.tokens_per_s,
                job=jobs.get(e.job_id) if e.job_id else None,
                finished=e.finished_at is not None,
            )
        )
    return out


def get_validation_page(
    session: Session,
    *,
    project_id: int,
    validation_id: int,
    a: str | None = None,
    b: str | None = None,
) -> ValidationPage:
    validation = get_validation_row(session, project_id=project_id, validation_id=validation_id)
    project = project_read(session, get_project_row(session, project_id=project_id))
    names = dict(
        session.execute(
            select(Strategy.id, Strategy.name).where(Strategy.project_id == project_id)
        ).all()
    )
    runs = _runs(session, validation, names)
    evals = _evaluations(session, validation, runs)
    test_set = session.get(TestSet, validation.test_set_id) if validation.test_set_id else None
    jobs = [r.job for r in runs if r.job] + [e.job for e in evals if e.job]
    training = [j for j in jobs if j.kind == "validation_train"]
    log = [
        {
            **e,
            "kept": [names.get(i, "?") for i in e.get("kept", [])],
            "stopped": [names.get(i, "?") for i in e.get("stopped", [])],
        }
        for e in validation.summary.get("halving_log", [])
    ]
    active = any(j.active for j in jobs)
    read = validation_read(validation)
    return ValidationPage(
        project=project,
        validation=read,
        test_set=test_set_read(session, test_set) if test_set else None,
        runs=runs,
        evaluations=evals,
        results=results(session, validation, runs, evals, a=a, b=b),
        halving_log=log,
        seconds_left=training_left(training),
        active=active,
    )


def training_left(jobs: list[JobRead]) -> float | None:
    """Training time left: the running runs' own estimates plus every waiting run at the
    time a run takes here (finished runs' durations, else the running run's projected
    total). Runs go one at a time per worker, so waiting runs add up; None while nothing
    has measured a run yet."""
    running = [j for j in jobs if j.status == "running"]
    waiting = [j for j in jobs if j.status == "queued"]
    if not running and not waiting:
        return None
    left = [float(j.progress_extra.get("seconds_left") or 0) for j in running]
    took = [
        (j.finished_at - j.started_at).total_seconds()
        for j in jobs
        if j.status == "succeeded" and j.started_at and j.finished_at
    ]
    took += [(j.elapsed_s or 0) + s for j, s in zip(running, left, strict=True) if s]
    if waiting and not took:
        return None
    per_run = sum(took) / len(took) if took else 0.0
    parallel = max(1, len(running))  # as many workers as runs running now
    total = max(left, default=0.0) + per_run * len(waiting) / parallel
    return total if total > 0 else None


def get_validations_index(
    session: Session, *, project_id: int, scan_id: int | None = None
) -> ValidationsIndex:
    from app.services.validations.presets import demo_preset
    from app.services.validations.start import latest_finished_scan
    from app.services.validations.testsets import get_test_set
    from app.specs.validation import ValidationSpec

    project = get_project_row(session, project_id=project_id)
    strategies = session.execute(
        select(Strategy.id, Strategy.name)
        .where(Strategy.project_id == project_id)
        .order_by(Strategy.id)
    ).all()
    scan = latest_finished_scan(session, project_id=project_id)
    if scan_id is not None:
        from app.services.validations.start import _scan

        scan = _scan(session, project_id, scan_id)
    preset = demo_preset(session, project_id=project_id) if project.is_demo else None
    return ValidationsIndex(
        project=project_read(session, project),
        test_set=get_test_set(session, project_id=project_id),
        validations=list_validations(session, project_id=project_id).validations,
        strategies=[StrategyChoice(id=i, name=n) for i, n in strategies],
        latest_scan_id=scan.id if scan else None,
        defaults=ValidationSpec().to_dict(),
        help=ValidationSpec.help(),
        demo_preset=preset.to_dict() if preset else None,
    )


def validation_charts(session: Session, page: ValidationPage) -> dict[str, Any]:
    """What static/js/validation.js draws: loss and validation curves per run, and accuracy
    against each metric (one point per strategy), each strategy in its scan-page colour."""
    colors = project_colors(session, project_id=page.project.id)
    runs = [
        {
            "name": f"{r.strategy} · seed {r.seed}",
            "color": colors.get(r.strategy),
            "status": r.status,
            "loss": [[p.step, p.loss] for p in r.curve if p.loss is not None],
            "val_loss": [[p.step, p.val_loss] for p in r.checkpoints if p.val_loss is not None],
            "val_accuracy": [
                [p.step, p.val_accuracy] for p in r.checkpoints if p.val_accuracy is not None
            ],
        }
        for r in page.runs
    ]
    ranked = [t for t in page.results.top_picks if "points" in t]  # a mix ranks nothing
    scatter = {t["metric"]: t["points"] for t in ranked}
    return {
        "kind": "validation",
        "colors": colors,
        "runs": runs,
        "scatter": scatter,
        "scatter_labels": {t["metric"]: t["label"] for t in ranked},
        "scatter_lower": {t["metric"]: t["lower_is_better"] for t in ranked},
        "base_accuracy": page.results.base_accuracy,
    }
