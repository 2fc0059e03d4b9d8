"""Validation: test sets, fine-tuning runs per (strategy, seed), their curves, evaluations
and the prediction per test question. Adapters live in the artifacts folder, named here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, object_session

from app.db import Base
from app.models._types import UTCDateTime, utcnow


class TestSet(Base):
    """Held-out questions with gold answers; the project's latest one is its test set
    (older ones stay for the validations that used them)."""

    __tablename__ = "test_sets"
    __test__ = False  # not a pytest class

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(20))  # upload | holdout | demo
    filename: Mapped[str] = mapped_column(String(500), default="")
    seed: Mapped[int | None] = mapped_column(Integer, nullable=True)  # holdout draw
    n_questions: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TestQuestion(Base):
    __tablename__ = "test_questions"
    __test__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    test_set_id: Mapped[int] = mapped_column(
        ForeignKey("test_sets.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    text_key: Mapped[str] = mapped_column(String(40), index=True)  # app.ingest.matching
    text: Mapped[str] = mapped_column(Text)
    gold: Mapped[str] = mapped_column(Text)
    line: Mapped[int] = mapped_column(Integer, default=0)
    # A held-out project question (source "holdout"): never used for training.
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), nullable=True
    )


class Validation(Base):
    """One validation: its spec verbatim, how it resolved (model, extractor), the drawn
    question split (``ValidationQuestion``), its halving rounds and how it ended."""

    __tablename__ = "validations"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    scan_id: Mapped[int | None] = mapped_column(
        ForeignKey("scans.id", ondelete="SET NULL"), nullable=True
    )
    test_set_id: Mapped[int | None] = mapped_column(
        ForeignKey("test_sets.id", ondelete="SET NULL"), nullable=True
    )
    label: Mapped[str] = mapped_column(String(200), default="")
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    model_name: Mapped[str] = mapped_column(String(500), default="")  # resolved
    extractor: Mapped[str] = mapped_column(String(40), default="")  # resolved
    n_shared: Mapped[int] = mapped_column(Integer, default=0)
    n_excluded_test_overlap: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_jobs: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # app.services.validations.states.ValidationState; error: why it failed
    status: Mapped[str] = mapped_column(String(20), default="running")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def question_ids(self, role: str) -> list[int]:
        """The split's ``train`` / ``val`` questions or ``test`` test questions, in order."""
        session = object_session(self)
        if session is None:
            return []
        column = (
            ValidationQuestion.test_question_id
            if role == "test"
            else ValidationQuestion.question_id
        )
        return list(
            session.scalars(
                select(column)
                .where(ValidationQuestion.validation_id == self.id, ValidationQuestion.role == role)
                .order_by(ValidationQuestion.position)
            )
        )

    @property
    def summary(self) -> dict[str, Any]:
        """How it resolved and split, as one read-only mapping (the page's JSON shape)."""
        session = object_session(self)
        rounds = (
            session.scalars(
                select(HalvingRound)
                .where(HalvingRound.validation_id == self.id)
                .order_by(HalvingRound.round)
            ).all()
            if session is not None
            else []
        )
        out: dict[str, Any] = {
            f"{role}_question_ids": self.question_ids(role) for role in ("train", "val", "test")
        }
        out |= {
            "n_shared": self.n_shared,
            "n_excluded_test_overlap": self.n_excluded_test_overlap,
            "extractor": self.extractor,
            "model": self.model_name,
            "halving_log": [r.as_entry() for r in rounds],
        }
        if self.cancelled_jobs is not None:
            out["cancelled_jobs"] = self.cancelled_jobs
        return out


class ValidationQuestion(Base):
    """One question of a validation's split: a training or validation question of the
    project, or a test question, in the order drawn."""

    __tablename__ = "validation_questions"
    __table_args__ = (UniqueConstraint("validation_id", "role", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    validation_id: Mapped[int] = mapped_column(
        ForeignKey("validations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(8))  # train | val | test
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), nullable=True
    )
    test_question_id: Mapped[int | None] = mapped_column(
        ForeignKey("test_questions.id", ondelete="CASCADE"), nullable=True
    )


class HalvingRound(Base):
    """One successive-halving decision: which strategies trained on, which stopped."""

    __tablename__ = "halving_rounds"
    __table_args__ = (UniqueConstraint("validation_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    validation_id: Mapped[int] = mapped_column(
        ForeignKey("validations.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[int] = mapped_column(Integer)
    at_step: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # strategy id -> score
    kept: Mapped[list[int]] = mapped_column(JSON, default=list)  # strategy ids
    stopped: Mapped[list[int]] = mapped_column(JSON, default=list)
    next_until_step: Mapped[int | None] = mapped_column(Integer, nullable=True)

    def as_entry(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "at_step": self.at_step,
            "at": self.at.isoformat() if self.at else None,
            "scores": dict(self.scores or {}),
            "kept": list(self.kept or []),
            "stopped": list(self.stopped or []),
            "next_until_step": self.next_until_step,
        }


class ValidationRun(Base):
    """The fine-tuning of one strategy with one seed; ``job_id`` is its latest job."""

    __tablename__ = "validation_runs"
    __table_args__ = (UniqueConstraint("validation_id", "strategy_id", "seed"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    validation_id: Mapped[int] = mapped_column(
        ForeignKey("validations.id", ondelete="CASCADE"), index=True
    )
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"))
    seed: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True
    )
    # training | waiting (halving round) | stopped (successive halving) | trained | failed |
    # cancelled (with the validation)
    status: Mapped[str] = mapped_column(String(20), default="training")
    rung: Mapped[int] = mapped_column(Integer, default=0)
    until_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    steps: Mapped[int] = mapped_column(Integer, default=0)
    best_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    best_val_accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    best_val_loss: Mapped[float | None] = mapped_column(Float, nullable=True)
    # the chosen adapter's artifact key under ARTIFACT_ROOT (``app.artifacts``), e.g.
    # validation-3/run-7/checkpoint-8; a row written before keys whose folder was outside the
    # artifacts folder keeps its absolute path (migration 0020), read on the host that has it
    adapter_dir: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    stopped_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class TrainingPoint(Base):
    """A point of a run's curve: a training step, or a checkpoint with validation scores."""

    __tablename__ = "training_points"
    __table_args__ = (UniqueConstraint("run_id", "kind", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("validation_runs.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))  # step | checkpoint
    step: Mapped[int] = mapped_column(Integer)
    loss: Mapped[float | None] = mapped_column(Float, nullable=True)
    tokens_per_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    val_loss: Mapped[float | None] = mapped_column(Float, nullable=True)
    val_accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Evaluation(Base):
    """The untuned target (``run_id`` empty) or one run's chosen adapter on the test set."""

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("validation_id", "run_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    validation_id: Mapped[int] = mapped_column(
        ForeignKey("validations.id", ondelete="CASCADE"), index=True
    )
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("validation_runs.id", ondelete="CASCADE"), nullable=True
    )
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True
    )
    extractor: Mapped[str] = mapped_column(String(40), default="")
    n: Mapped[int] = mapped_column(Integer, default=0)
    accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    tokens_per_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Prediction(Base):
    """One evaluated answer: model output -> extracted answer -> gold -> correct."""

    __tablename__ = "predictions"
    __table_args__ = (UniqueConstraint("evaluation_id", "test_question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("evaluations.id", ondelete="CASCADE"), index=True
    )
    test_question_id: Mapped[int] = mapped_column(
        ForeignKey("test_questions.id", ondelete="CASCADE")
    )
    output: Mapped[str] = mapped_column(Text)
    extracted: Mapped[str | None] = mapped_column(Text, nullable=True)
    gold: Mapped[str] = mapped_column(Text)
    correct: Mapped[bool] = mapped_column(Boolean)
    extractor: Mapped[str] = mapped_column(String(40))
    new_tokens: Mapped[int] = mapped_column(Integer, default=0)
