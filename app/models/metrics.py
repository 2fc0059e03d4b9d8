"""Selection metrics computed elsewhere and imported into a project (issue 13)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models._types import UTCDateTime, utcnow


class ImportedMetric(Base):
    """One named metric of a project, from one file: per question or per strategy."""

    __tablename__ = "imported_metrics"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(40))
    lower_is_better: Mapped[bool] = mapped_column(Boolean)
    per: Mapped[str] = mapped_column(String(20))  # "question" | "strategy"
    source_filename: Mapped[str] = mapped_column(String(500), default="")
    n_values: Mapped[int] = mapped_column(Integer, default=0)
    n_samples: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportedMetricValue(Base):
    """One value: of a response (question set) or of a whole strategy (question None), in
    one of the metric's disjoint question samples (0 when it has one)."""

    __tablename__ = "imported_metric_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    metric_id: Mapped[int] = mapped_column(
        ForeignKey("imported_metrics.id", ondelete="CASCADE"), index=True
    )
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"))
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), nullable=True
    )
    sample: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[float] = mapped_column(Float)
