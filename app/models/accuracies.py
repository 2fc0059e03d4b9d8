"""Downstream accuracies a user measured per strategy (one row per fine-tuning seed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models._types import UTCDateTime, utcnow


class Accuracy(Base):
    """Accuracy (0-1) of a model fine-tuned on one strategy's responses, for one seed."""

    __tablename__ = "accuracies"
    __table_args__ = (UniqueConstraint("strategy_id", "seed"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"))
    seed: Mapped[int] = mapped_column(Integer, default=0)
    accuracy: Mapped[float] = mapped_column(Float)
    # Set when a validation of this project measured it (else the user uploaded it).
    validation_id: Mapped[int | None] = mapped_column(
        ForeignKey("validations.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
