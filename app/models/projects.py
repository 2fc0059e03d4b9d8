"""Projects, their strategies, the questions they share, and the responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models._types import UTCDateTime, utcnow


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    target_model: Mapped[str] = mapped_column(String(500))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whose verdicts count: "judge" (Familiar's) or "file" (the uploads' own `correct`)
    verdicts_from: Mapped[str] = mapped_column(String(10), default="judge", server_default="judge")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    strategies: Mapped[list[Strategy]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="Strategy.id"
    )


class Strategy(Base):
    __tablename__ = "strategies"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    source_filename: Mapped[str] = mapped_column(String(500), default="")
    file_format: Mapped[str] = mapped_column(String(20), default="")
    layout: Mapped[str] = mapped_column(String(40), default="")
    origin: Mapped[str] = mapped_column(String(20), default="upload")  # upload|demo|target|mix|lab
    # How the import paired this strategy's rows: rules used, repeats (app.ingest.repeats)
    import_report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # A per-question mix (origin "mix", app.services.mixes): the scan and metric it was
    # picked by, the strategy chosen per question and the count per source strategy.
    mix: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Made by the strategy lab (origin "lab", app.lab.promote): the recipe version, teacher,
    # model, sampling parameters and what its answers cost.
    lab: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="strategies")


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("project_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    text_key: Mapped[str] = mapped_column(String(40), index=True)
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    gold: Mapped[str | None] = mapped_column(Text, nullable=True)
    position: Mapped[int] = mapped_column(Integer)
    # number | option | yesno | text | code, detected per question by the analyze job
    answer_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # From a category/subject/task field of the upload, or mapped later (issue 13)
    category: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # A code task's tests from their own field of the upload (app.ingest.code_tests): the
    # test texts, the field they came from (shown with every verdict) and the setup code.
    tests: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    tests_field: Mapped[str | None] = mapped_column(String(80), nullable=True)
    tests_setup: Mapped[str | None] = mapped_column(Text, nullable=True)


class Response(Base):
    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("strategy_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    strategy_id: Mapped[int] = mapped_column(
        ForeignKey("strategies.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    line: Mapped[int] = mapped_column(Integer, default=0)
    n_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    correct: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    file_correct: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # the file's own
    # Where `correct` came from: judge | not_judged | file | human (app.services.verdicts);
    # None until the analyze job has judged the response. A human verdict names who and when.
    verdict_source: Mapped[str | None] = mapped_column(String(20), nullable=True)
    verdict_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    verdict_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
