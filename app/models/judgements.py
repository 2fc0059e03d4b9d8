"""How each response's answer was judged: answer -> extracted -> gold -> verdict -> rule."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models._types import UTCDateTime, utcnow


class Judgement(Base):
    """One judge's verdict on one response (the rule judge "auto", or "llm:<model>")."""

    __tablename__ = "judgements"
    __table_args__ = (UniqueConstraint("response_id", "judge"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), index=True
    )
    judge: Mapped[str] = mapped_column(String(200), default="auto")
    answer_type: Mapped[str] = mapped_column(String(20))
    extracted: Mapped[str | None] = mapped_column(Text, nullable=True)
    gold: Mapped[str | None] = mapped_column(Text, nullable=True)
    verdict: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    rule: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
