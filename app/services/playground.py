"""The playground: ask the untuned target or trained adapters one question, see the answers
side by side (issue 23).

Starting resolves everything the ``playground`` job needs (``PlaygroundSpec``): the question
(typed, or one of the project's with its gold), the extractor the project's validations
judge with, the untuned target's model and the runs whose adapters answer. The answers are
the job's result (``Job.result``, written with its success by workers/jobs/playground.py);
the page reads them back, newest run first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.backends import DEFAULT_BACKEND
from app.evaluation.extractors import suggest_extractor
from app.jobs.lifecycle import create_job
from app.models import Job, Question, Strategy, Validation, ValidationRun
from app.schemas.jobs import JobRead
from app.schemas.playground import (
    PlaygroundAnswer,
    PlaygroundChoice,
    PlaygroundPage,
    PlaygroundQuestion,
    PlaygroundRun,
)
from app.services.errors import BadInput, NotFound
from app.services.jobs import with_context
from app.services.projects import get_project_row, project_read
from app.specs.playground import PLAYGROUND_MAX_NEW_TOKENS, PlaygroundCreate, PlaygroundSpec

KIND = "playground"
BASE_LABEL = "target (untuned)"
FINISHED_RUNS = ("trained", "stopped")  # app.services.validations.states.RunState
N_QUESTIONS = 200  # the picker lists the project's first questions
N_RUNS = 20  # earlier runs listed


def answer_label(strategy: str | None, seed: int | None = None) -> str:
    """How an answer is headed: the untuned target, or the adapter's strategy and seed."""
    return BASE_LABEL if strategy is None else f"{strategy}, seed {seed}"


def _precision_dtype(validation: Validation) -> str:
    """The dtype the validation evaluated in (as ``workers.jobs.validation._load``)."""
    precision = ((validation.spec or {}).get("train") or {}).get("precision")
    return precision if precision in ("float32", "bfloat16") else "auto"


def _finished_runs(session: Session, *, project_id: int) -> list[tuple[Any, ...]]:
    return list(
        session.execute(
            select(ValidationRun, Validation, Strategy.name)
            .join(Validation, Validation.id == ValidationRun.validation_id)
            .join(Strategy, Strategy.id == ValidationRun.strategy_id)
            .where(
                Validation.project_id == project_id,
                ValidationRun.status.in_(FINISHED_RUNS),
                ValidationRun.adapter_dir.is_not(None),
            )
            .order_by(Validation.id.desc(), Strategy.name, ValidationRun.seed)
        ).all()
    )


def adapter_choices(session: Session, *, project_id: int) -> list[PlaygroundChoice]:
    """The trained adapters of the project's validation runs, newest validation first."""
    return [
        PlaygroundChoice(
            run_id=run.id,
            label=answer_label(name, run.seed),
            validation_id=validation.id,
            validation_label=validation.label or f"validation {validation.id}",
            strategy=name,
            seed=run.seed,
            best_val_accuracy=run.best_val_accuracy,
        )
        for run, validation, name in _finished_runs(session, project_id=project_id)
    ]


def run_answerer(session: Session, *, project_id: int | None, run_id: int) -> dict[str, Any] | str:
    """What the job needs to let a run's adapter answer (label, model, backend, dtype,
    adapter folder), or why it cannot (a message)."""
    run = session.get(ValidationRun, run_id)
    validation = session.get(Validation, run.validation_id) if run else None
    if run is None or validation is None or validation.project_id != project_id:
        return f"validation run {run_id} no longer exists in this project"
    if run.status not in FINISHED_RUNS or not run.adapter_dir:
        return f"validation run {run_id} has no trained adapter ({run.status})"
    strategy = session.get(Strategy, run.strategy_id)
    return {
        "label": answer_label(
            strategy.name if strategy else f"strategy {run.strategy_id}", run.seed
        ),
        "run_id": run.id,
        "model": validation.model_name,
        "backend": (validation.spec or {}).get("backend", DEFAULT_BACKEND),
        "dtype": _precision_dtype(validation),
        "adapter": run.adapter_dir,
    }


def _question(session: Session, *, project_id: int, question_id: int) -> Question:
    question = session.get(Question, question_id)
    if question is None or question.project_id != project_id:
        raise BadInput(f"question {question_id} is not one of this project's", field="question_id")
    return question


def _extractor(session: Session, *, project_id: int, validations: list[Validation]) -> str:
    """The extractor of the chosen adapters' validation, else of the project's newest
    validation, else the one the project's golds suggest."""
    newest = session.scalar(
        select(Validation)
        .where(Validation.project_id == project_id, Validation.extractor != "")
        .order_by(Validation.id.desc())
        .limit(1)
    )
    for validation in [*validations, newest]:
        if validation is not None and validation.extractor:
            return validation.extractor
    golds = session.scalars(
        select(Question.gold)
        .where(Question.project_id == project_id, Question.gold.is_not(None))
        .order_by(Question.position)
        .limit(N_QUESTIONS)
    ).all()
    return suggest_extractor([g for g in golds if g])


def start_playground(session: Session, *, project_id: int, data: PlaygroundCreate) -> JobRead:
    """Queue a playground job (gpu queue, sent after the commit)."""
    project = get_project_row(session, project_id=project_id)
    validations: list[Validation] = []
    for run_id in data.run_ids:
        found = run_answerer(session, project_id=project_id, run_id=run_id)
        if isinstance(found, str):
            raise BadInput(found, field="run_ids")
        run = session.get(ValidationRun, run_id)
        validations.append(session.get(Validation, run.validation_id))  # type: ignore[union-attr,arg-type]
    gold = None
    text = data.question.strip()
    if data.question_id is not None:
        question = _question(session, project_id=project_id, question_id=data.question_id)
        text, gold = question.text, question.gold
    base = validations[0] if validations else None  # like for like with the adapters
    spec = PlaygroundSpec(
        question=text,
        question_id=data.question_id,
        gold=gold if gold and gold.strip() else None,
        extractor=_extractor(session, project_id=project_id, validations=validations),
        base=data.base,
        model=base.model_name if base else project.target_model,
        backend=(base.spec or {}).get("backend", DEFAULT_BACKEND) if base else DEFAULT_BACKEND,
        dtype=_precision_dtype(base) if base else "auto",
        run_ids=list(data.run_ids),
        max_new_tokens=data.max_new_tokens,
    )
    job = create_job(session, kind=KIND, project_id=project_id, spec=spec)
    session.flush()
    return with_context(session, job)


def _labels(session: Session, spec: dict[str, Any]) -> list[str]:
    labels = [BASE_LABEL] if spec.get("base", True) else []
    for run_id in spec.get("run_ids") or []:
        run = session.get(ValidationRun, run_id)
        strategy = session.get(Strategy, run.strategy_id) if run else None
        labels.append(
            answer_label(strategy.name, run.seed) if strategy and run else f"run {run_id}"
        )
    return labels


def playground_run(session: Session, job: Job) -> PlaygroundRun:
    spec = job.spec or {}
    result = job.result if job.status == "succeeded" and job.result else {}
    return PlaygroundRun(
        job=with_context(session, job),
        question=spec.get("question", ""),
        question_id=spec.get("question_id"),
        gold=spec.get("gold"),
        extractor=spec.get("extractor", ""),
        max_new_tokens=spec.get("max_new_tokens", PLAYGROUND_MAX_NEW_TOKENS),
        labels=[a["label"] for a in result["answers"]] if result else _labels(session, spec),
        answers=[PlaygroundAnswer.model_validate(a) for a in result.get("answers", [])],
    )


def get_playground_page(
    session: Session,
    *,
    project_id: int,
    question_id: int | None = None,
    run_id: int | None = None,
) -> PlaygroundPage:
    """The form's choices, the question picked, the run shown (``run_id``: a playground job
    of this project; default the newest) and the earlier runs."""
    project = get_project_row(session, project_id=project_id)
    jobs = session.scalars(
        select(Job)
        .where(Job.project_id == project_id, Job.kind == KIND)
        .order_by(Job.id.desc())
        .limit(N_RUNS + 1)
        .execution_options(populate_existing=True)
    ).all()
    shown = jobs[0] if jobs else None
    if run_id is not None:
        shown = session.get(Job, run_id, populate_existing=True)
        if shown is None or shown.project_id != project_id or shown.kind != KIND:
            raise NotFound(f"playground run {run_id} not found in project {project_id}")
    questions = session.scalars(
        select(Question)
        .where(Question.project_id == project_id)
        .order_by(Question.position)
        .limit(N_QUESTIONS)
    ).all()
    picked = None
    if question_id is not None:
        q = session.get(Question, question_id)
        if q is None or q.project_id != project_id:
            raise NotFound(f"question {question_id} not found in project {project_id}")
        picked = PlaygroundQuestion(id=q.id, text=q.text, gold=q.gold)
    n_questions = session.scalar(
        select(func.count(Question.id)).where(Question.project_id == project_id)
    )
    return PlaygroundPage(
        project=project_read(session, project),
        choices=adapter_choices(session, project_id=project_id),
        questions=[PlaygroundQuestion(id=q.id, text=q.text, gold=q.gold) for q in questions],
        n_questions=n_questions or 0,
        picked=picked,
        max_new_tokens=PLAYGROUND_MAX_NEW_TOKENS,
        run=playground_run(session, shown) if shown is not None else None,
        runs=[playground_run(session, j) for j in jobs if shown is None or j.id != shown.id][
            :N_RUNS
        ],
    )
