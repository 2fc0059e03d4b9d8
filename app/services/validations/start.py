"""Start a validation: every check that can fail before model work, the recorded question
split, then one training job per (strategy, seed) and the untuned target's evaluation."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.jobs.lifecycle import create_job
from app.metrics import registry
from app.models import (
    Question,
    Response,
    Scan,
    ScanAggregate,
    Strategy,
    TestQuestion,
    Validation,
    ValidationQuestion,
    ValidationRun,
)
from app.pipelines.validation import add_evaluation
from app.services.errors import BadInput, NotFound
from app.services.models import check_model_ref
from app.services.projects import get_project_row
from app.services.scans import selected_strategies, shared_question_ids
from app.services.validations.states import RunState, ValidationState
from app.services.validations.testsets import current_test_set, leaking_question_ids
from app.specs.validation import (
    DEFAULT_TRAIN_EXAMPLES,
    DEFAULT_VAL_EXAMPLES,
    ValidationSpec,
    ValidationTrainSpec,
)

GROUND_TRUTH = re.compile(r"ground.?truth|groundtruth|gold|human.?written", re.IGNORECASE)


@dataclass(frozen=True)
class Split:
    train: list[int]
    val: list[int]
    test: list[int]
    n_shared: int
    n_excluded: int  # shared questions that are test questions too (leakage)


def latest_finished_scan(session: Session, *, project_id: int) -> Scan | None:
    """The newest finished scan that a validation can follow: one whose strategies all
    answer more than a lab sample (a lab sample's own scan ranks recipes on a few
    questions, and its recipes have too few answers to train on); else the newest."""
    from app.services.coverage import sample_only_ids

    scans = session.scalars(
        select(Scan)
        .where(Scan.project_id == project_id, Scan.finished_at.is_not(None))
        .order_by(Scan.id.desc())
    ).all()
    out = sample_only_ids(session, project_id=project_id)
    trainable = (s for s in scans if not out & set((s.spec or {}).get("strategy_ids") or []))
    return next(trainable, scans[0] if scans else None)


def _scan(session: Session, project_id: int, scan_id: int | None) -> Scan | None:
    if scan_id is None:
        return latest_finished_scan(session, project_id=project_id)
    scan = session.get(Scan, scan_id)
    if scan is None or scan.project_id != project_id:
        raise NotFound(f"scan {scan_id} not found in project {project_id}")
    return scan


def quick_top3(session: Session, *, project_id: int, scan: Scan | None) -> list[int]:
    """The scan's three most familiar strategies by its primary metric (SPPL, else PPL...;
    the registry's order) plus the ground truth."""
    if scan is None or scan.finished_at is None:
        raise BadInput(
            "the quick choice (top 3) needs a finished scan of this project", field="quick"
        )
    for metric in registry.names("familiarity"):
        ranked = session.scalars(
            select(ScanAggregate.strategy_id)
            .where(
                ScanAggregate.scan_id == scan.id,
                ScanAggregate.metric == metric,
                ScanAggregate.rank.is_not(None),
            )
            .order_by(ScanAggregate.rank)
        ).all()
        if ranked:
            break
    else:
        raise BadInput(f"scan {scan.id} has no ranking to pick the top 3 from")
    from app.services.coverage import sample_only_ids

    out = sample_only_ids(session, project_id=project_id)  # too few answers to train on
    ids = [sid for sid in ranked if sid not in out][:3]
    names = session.execute(
        select(Strategy.id, Strategy.name).where(Strategy.project_id == project_id)
    ).all()
    ids += [sid for sid, name in names if GROUND_TRUTH.search(name) and sid not in ids][:1]
    return ids


def draw_split(
    session: Session,
    *,
    project_id: int,
    strategies: list[Strategy],
    spec: ValidationSpec,
    test_set_id: int,
) -> Split:
    """The SAME training questions for every strategy, drawn with ``spec.data_seed``, none of
    them a test question; validation questions (with gold) from the rest."""
    shared = shared_question_ids(session, strategy_ids=[s.id for s in strategies])
    leaks = leaking_question_ids(session, project_id=project_id, test_set_id=test_set_id)
    available = [q for q in shared if q not in leaks]
    _check_enough(session, strategies, leaks, available, spec.train_examples)
    n_train = spec.train_examples or min(DEFAULT_TRAIN_EXAMPLES, len(available))
    order = available[:]
    random.Random(spec.data_seed).shuffle(order)
    train, rest = sorted(order[:n_train]), order[n_train:]
    golds = dict(
        session.execute(select(Question.id, Question.gold).where(Question.id.in_(rest))).all()
    )
    with_gold = [q for q in rest if (golds.get(q) or "").strip()]
    n_val = DEFAULT_VAL_EXAMPLES if spec.val_examples is None else spec.val_examples
    if spec.val_examples is not None and n_val > len(with_gold):
        raise BadInput(
            f"val_examples: {n_val} asked, but only {len(with_gold)} shared questions "
            "with a gold answer remain after the training draw",
            field="val_examples",
        )
    test = session.scalars(
        select(TestQuestion.id)
        .where(TestQuestion.test_set_id == test_set_id)
        .order_by(TestQuestion.position)
        .limit(spec.test_limit)
    ).all()
    return Split(
        train=train,
        val=sorted(with_gold[:n_val]),
        test=list(test),
        n_shared=len(shared),
        n_excluded=len(shared) - len(available),
    )


def _check_enough(
    session: Session,
    strategies: list[Strategy],
    leaks: set[int],
    available: list[int],
    asked: int | None,
) -> None:
    if not available:
        raise BadInput(
            "no training question is left: the strategies share no question that "
            "is not a test question"
        )
    if asked is None or asked <= len(available):
        return
    counts = dict(
        session.execute(
            select(Response.strategy_id, func.count(Response.id))
            .where(
                Response.strategy_id.in_([s.id for s in strategies]),
                Response.question_id.not_in(leaks or {-1}),
            )
            .group_by(Response.strategy_id)
        ).all()
    )
    short = [
        f"'{s.name}' has {counts.get(s.id, 0)}" for s in strategies if counts.get(s.id, 0) < asked
    ]
    detail = "; ".join(short) or "each strategy has enough, but they share only " + str(
        len(available)
    )
    raise BadInput(
        f"train_examples: {asked} training examples per strategy asked, but {detail} "
        f"(test questions excluded; {len(available)} usable questions are shared by all)",
        field="train_examples",
    )


def resolve_extractor(session: Session, spec: ValidationSpec, test_ids: list[int]) -> str:
    from app.evaluation.extractors import EXTRACTORS, suggest_extractor

    if spec.extractor:
        if spec.extractor not in EXTRACTORS:
            from app.specs.scan import suggest

            raise BadInput(
                f"extractor: unknown {spec.extractor!r}"
                f"{suggest(spec.extractor, list(EXTRACTORS))} "
                f"(one of {', '.join(EXTRACTORS)})",
                field="extractor",
            )
        return spec.extractor
    golds = session.scalars(select(TestQuestion.gold).where(TestQuestion.id.in_(test_ids))).all()
    return str(suggest_extractor(list(golds)))


def start_validation(session: Session, *, project_id: int, data: ValidationSpec) -> Validation:
    """Validate everything knowable here, then add the validation, its runs and jobs (sent
    to the gpu queue after the commit). LoRA targets are checked when a job loads the model."""
    project = get_project_row(session, project_id=project_id)
    model = (data.model or project.target_model).strip()
    check_model_ref(model)
    test_set = current_test_set(session, project_id=project_id)
    if test_set is None:
        raise BadInput(
            "the project has no test set: upload questions with gold answers as "
            "its test set, or hold out part of its questions"
        )
    scan = _scan(session, project_id, data.scan_id)
    ids = (
        quick_top3(session, project_id=project_id, scan=scan)
        if data.quick == "top3"
        else (data.strategy_ids or None)
    )
    strategies = selected_strategies(session, project_id=project_id, ids=ids)
    split = draw_split(
        session, project_id=project_id, strategies=strategies, spec=data, test_set_id=test_set.id
    )
    if not split.test:
        raise BadInput("the test set has no question")
    extractor = resolve_extractor(session, data, split.test)
    resolved = data.model_copy(
        update={
            "model": model,
            "strategy_ids": [s.id for s in strategies],
            "extractor": extractor,
            "scan_id": scan.id if scan else None,
        }
    )
    validation = Validation(
        project_id=project_id,
        scan_id=scan.id if scan else None,
        test_set_id=test_set.id,
        label=data.label,
        spec=resolved.to_dict(),
        status=ValidationState.RUNNING.value,
        model_name=model,
        extractor=extractor,
        n_shared=split.n_shared,
        n_excluded_test_overlap=split.n_excluded,
    )
    session.add(validation)
    session.flush()
    session.add_all(_split_rows(validation.id, split))
    _add_jobs(session, validation, strategies, resolved)
    return validation


def _split_rows(validation_id: int, split: Split) -> list[ValidationQuestion]:
    """The drawn split as rows: training and validation questions, then test questions."""
    rows = [
        ValidationQuestion(validation_id=validation_id, role=role, position=i, question_id=q)
        for role, ids in (("train", split.train), ("val", split.val))
        for i, q in enumerate(ids)
    ]
    return rows + [
        ValidationQuestion(validation_id=validation_id, role="test", position=i, test_question_id=q)
        for i, q in enumerate(split.test)
    ]


def first_until(spec: ValidationSpec, n_strategies: int) -> int | None:
    return spec.halving_first_steps if spec.halving and n_strategies > 1 else None


def _add_jobs(
    session: Session, validation: Validation, strategies: list[Strategy], spec: ValidationSpec
) -> None:
    until = first_until(spec, len(strategies))
    for strategy in strategies:
        for seed in range(spec.seeds):
            run = ValidationRun(
                validation_id=validation.id,
                strategy_id=strategy.id,
                seed=seed,
                status=RunState.TRAINING.value,
                until_step=until,
            )
            session.add(run)
            session.flush()
            run.job_id = create_job(
                session,
                kind="validation_train",
                project_id=validation.project_id,
                spec=ValidationTrainSpec(
                    validation_id=validation.id, run_id=run.id, until_step=until
                ),
            ).id
    add_evaluation(session, validation, run_id=None)
    session.flush()
