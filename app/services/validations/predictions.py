"""Per-question predictions of one evaluation (output -> extracted -> gold -> correct, with
the extractor named), re-scored with another extractor from the saved outputs (no model
run), and the downloads: predictions JSONL, the accuracy table CSV, an adapter zip."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.artifacts import ArtifactError, artifact_store
from app.artifacts.zipping import zip_stream
from app.metrics import registry
from app.models import Evaluation, Prediction, TestQuestion, ValidationRun
from app.schemas.validations import PredictionRow, PredictionsPage
from app.services.csv_cells import csv_table
from app.services.errors import BadInput, NotFound
from app.services.projects import get_project_row, project_read
from app.services.validations.page import get_validation_page, get_validation_row, validation_read

PAGE_SIZE = 50


def _evaluation(session: Session, validation_id: int, evaluation_id: int) -> Evaluation:
    evaluation = session.get(Evaluation, evaluation_id)
    if evaluation is None or evaluation.validation_id != validation_id:
        raise NotFound(f"evaluation {evaluation_id} not found in validation {validation_id}")
    return evaluation


def _check_extractor(name: str) -> None:
    from app.evaluation.extractors import UnknownExtractorError, get_extractor

    try:
        get_extractor(name)
    except UnknownExtractorError as exc:
        raise BadInput(f"extractor: {exc}") from exc


def prediction_rows(
    session: Session,
    evaluation: Evaluation,
    *,
    extractor: str | None,
    offset: int = 0,
    limit: int | None = None,
) -> list[PredictionRow]:
    """The saved predictions in test-set order; re-scored when ``extractor`` differs from
    the one that scored them."""
    from app.evaluation.extractors import score_output

    query = (
        select(Prediction, TestQuestion.text)
        .join(TestQuestion, TestQuestion.id == Prediction.test_question_id)
        .where(Prediction.evaluation_id == evaluation.id)
        .order_by(TestQuestion.position)
        .offset(offset)
        .limit(limit)
    )
    rows = []
    for p, text in session.execute(query):
        extracted, correct, name = p.extracted, p.correct, p.extractor
        if extractor and extractor != p.extractor:
            scored = score_output(extractor, p.output, p.gold)
            extracted, correct, name = scored.extracted, scored.correct, extractor
        rows.append(
            PredictionRow(
                test_question_id=p.test_question_id,
                question=text,
                output=p.output,
                extracted=extracted,
                gold=p.gold,
                correct=correct,
                extractor=name,
            )
        )
    return rows


SHOWS = ("all", "wrong")


def get_predictions_page(
    session: Session,
    *,
    project_id: int,
    validation_id: int,
    evaluation_id: int,
    extractor: str | None = None,
    page: int = 1,
    show: str = "all",
) -> PredictionsPage:
    """One page of an evaluation's predictions; ``show="wrong"`` keeps only the wrong ones
    (by the extractor in use, so a re-score filters by its own verdicts)."""
    from app.evaluation.extractors import EXTRACTORS

    if show not in SHOWS:
        raise BadInput(f"show must be one of {', '.join(SHOWS)}, not {show!r}")
    validation = get_validation_row(session, project_id=project_id, validation_id=validation_id)
    evaluation = _evaluation(session, validation_id, evaluation_id)
    if extractor:
        _check_extractor(extractor)
    full = get_validation_page(session, project_id=project_id, validation_id=validation_id)
    read = next(e for e in full.evaluations if e.id == evaluation_id)
    used = extractor or evaluation.extractor
    rescored = bool(extractor) and extractor != evaluation.extractor
    accuracy = evaluation.accuracy
    whole = rescored or show != "all"
    every = prediction_rows(session, evaluation, extractor=used) if whole else []
    if rescored:
        accuracy = sum(r.correct for r in every) / len(every) if every else None
    wrong = [r for r in every if not r.correct]
    n = len(wrong) if show == "wrong" else _count(session, evaluation_id)
    pages = max(1, -(-n // PAGE_SIZE))
    page = min(max(1, page), pages)
    start = (page - 1) * PAGE_SIZE
    rows = (
        wrong[start : start + PAGE_SIZE]
        if show == "wrong"
        else prediction_rows(session, evaluation, extractor=used, offset=start, limit=PAGE_SIZE)
    )
    return PredictionsPage(
        project=project_read(session, get_project_row(session, project_id=project_id)),
        validation=validation_read(validation),
        evaluation=read,
        extractor=used,
        rescored=rescored,
        accuracy=accuracy,
        extractors=list(EXTRACTORS),
        rows=rows,
        page=page,
        pages=pages,
        show=show,
        total=n,
    )


def _count(session: Session, evaluation_id: int) -> int:
    query = select(func.count(Prediction.id)).where(Prediction.evaluation_id == evaluation_id)
    return int(session.scalar(query) or 0)


def predictions_jsonl(
    session: Session, *, project_id: int, validation_id: int, extractor: str | None = None
) -> Iterator[str]:
    """Every prediction of every evaluation, one JSON object a line."""
    page = get_validation_page(session, project_id=project_id, validation_id=validation_id)
    if extractor:
        _check_extractor(extractor)
    for e in page.evaluations:
        evaluation = session.get(Evaluation, e.id)
        assert evaluation is not None
        for row in prediction_rows(session, evaluation, extractor=extractor):
            yield (
                json.dumps(
                    {
                        "evaluation_id": e.id,
                        "model": e.strategy or "base",
                        "strategy": e.strategy,
                        "seed": e.seed,
                        **row.model_dump(),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )


ACCURACY_HEADER = [
    "strategy",
    "mean_accuracy",
    "std_over_seeds",
    "n_seeds",
    "ci95_low",
    "ci95_high",
    "n_questions",
    "seeds",
]


def accuracy_csv(session: Session, *, project_id: int, validation_id: int) -> str:
    """One row per strategy (then the untuned target), with a column for every familiarity
    metric a scan can compute (empty where the compared scan has none) and for each
    imported metric."""
    page = get_validation_page(session, project_id=project_id, validation_id=validation_id)
    columns = list(registry.familiarity(registry.selectable()))
    ordered = sorted(columns, key=registry.selectable().index)
    metrics = ordered + [m for m in page.results.metric_labels if m not in ordered]
    rows: list[list[object]] = [
        [
            r.strategy,
            r.mean,
            r.std,
            r.n_seeds,
            r.ci_low,
            r.ci_high,
            r.n_questions,
            ";".join(f"{s}:{v:.4f}" for s, v in sorted(r.seeds.items())),
            *(r.metrics.get(m) for m in metrics),
        ]
        for r in page.results.accuracies
    ]
    header = [*ACCURACY_HEADER, *metrics]
    if page.results.base_accuracy is not None:
        rows.append(["(untuned target)", page.results.base_accuracy, *[None] * (len(header) - 2)])
    return csv_table(header, rows)


def adapter_zip(
    session: Session, *, project_id: int, validation_id: int, run_id: int
) -> Iterator[bytes]:
    """The run's chosen adapter folder as a zip, streamed from the artifact store
    (``app.artifacts``). Only a key inside ARTIFACT_ROOT is served: a row naming a folder
    elsewhere (written before keys), or anything that is no valid key, is refused."""
    get_validation_row(session, project_id=project_id, validation_id=validation_id)
    run = session.get(ValidationRun, run_id)
    if run is None or run.validation_id != validation_id or not run.adapter_dir:
        raise NotFound(f"run {run_id} of validation {validation_id} has no adapter")
    store, key = artifact_store(), None
    try:
        key = store.key_for(run.adapter_dir)
        files = store.manifest(key) if key else {}
    except ArtifactError:  # a bad key, or the folder is gone
        files = {}
    if not key or not files:
        raise NotFound(f"the adapter of run {run_id} is no longer in the artifact store")
    chosen = [
        (name, size)
        for name, size in sorted(files.items())
        if Path(name).name in _ADAPTER_FILES or name.endswith(".json")
    ]
    return zip_stream(store, key, chosen)


_ADAPTER_FILES = {
    "adapter_model.safetensors",
    "adapter_config.json",
    "README.md",
    "adapter_model.bin",
}
