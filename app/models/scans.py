"""Familiarity scans, their stored per-response values, and the reusable score cache."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models._types import UTCDateTime, utcnow


class Scan(Base):
    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True
    )
    model_name: Mapped[str] = mapped_column(String(500))
    label: Mapped[str] = mapped_column(String(200), default="", server_default="")
    model_key: Mapped[str] = mapped_column(String(200), default="")
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Run metadata (model, settings, warnings, timings, counts, sample, SPPL examples).
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The chart payloads (app.scans.report.ScanReport), built once when the scan finished.
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The report's recommendation as columns, so listings never parse reports (0017).
    primary_metric: Mapped[str | None] = mapped_column(String(60), nullable=True)
    recommended: Mapped[str | None] = mapped_column(String(200), nullable=True)
    evidence: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set in the transaction that stores the results: a scan has results iff it is set.
    # Its status is its job's (app.scans.status).
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ScanAggregate(Base):
    """One strategy's summary of one metric in one scan: what the rankings read."""

    __tablename__ = "scan_aggregates"
    __table_args__ = (UniqueConstraint("scan_id", "strategy_id", "metric"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), index=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(20))
    n: Mapped[int] = mapped_column(Integer, default=0)
    mean: Mapped[float | None] = mapped_column(Float, nullable=True)
    median: Mapped[float | None] = mapped_column(Float, nullable=True)
    std: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)


class TokenSurprise(Base):
    """Per-token log-probabilities of one scan question's responses: one row per (scan,
    question), pointing at the job that computes it; ``contexts`` is set when it succeeded:
    {context: {strategy id: {"tokens": [[text, logprob], ...], "truncated": bool}}}."""

    __tablename__ = "token_surprises"
    __table_args__ = (UniqueConstraint("scan_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True
    )
    contexts: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    model: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ScanValue(Base):
    """One metric value of one response in one scan (only written when the scan completes)."""

    __tablename__ = "scan_values"
    __table_args__ = (UniqueConstraint("scan_id", "strategy_id", "question_id", "metric"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), index=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(20))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    n_tokens: Mapped[int] = mapped_column(Integer, default=0)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)


class ScanVector(Base):
    """One response's vector of one metric in one scan (GRACE's projected gradient): what
    the metric's strategy-level aggregate is recomputed from, without the model.

    ``data`` holds ``dim`` float32 values, little-endian (2 KiB at the default 512): a
    compact, exact, portable column that SQLite and Postgres store alike."""

    __tablename__ = "scan_vectors"
    __table_args__ = (UniqueConstraint("scan_id", "strategy_id", "question_id", "metric"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), index=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(20))
    dim: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ScoreCache(Base):
    """Scored items keyed by model, settings, prefix and response text: reuse and resume."""

    __tablename__ = "score_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the full key
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    n_tokens: Mapped[int] = mapped_column(Integer, default=0)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OwnAnswer(Base):
    """The target model's own zero-shot answer to a question (SPPL pool, demo strategy)."""

    __tablename__ = "own_answers"
    __table_args__ = (UniqueConstraint("question_id", "model_key", "settings_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    model_key: Mapped[str] = mapped_column(String(200))
    settings_key: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    correct: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TextCache(Base):
    """Generated texts (the target's own answers) keyed by model, settings and prompt."""

    __tablename__ = "text_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
