"""Validation: test sets, fine-tuning runs per (strategy, seed), their curves, evaluations
and the prediction per test question. Adapters live in the artifacts folder, named here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

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
    """One validation: its spec verbatim, the drawn question split, and how it ended."""

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
    # The split (training / validation question ids, test question ids), leakage counts,
    # the successive-halving log, timings.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # running | done | failed | cancelled
    status: Mapped[str] = mapped_column(String(20), default="running")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


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
