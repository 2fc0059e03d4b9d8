"""The strategy lab (issue 21): teachers, versioned recipes, the price table, every
generated answer (the cache that makes a resumed run never pay twice) and every fault.

A teacher's API key is stored only encrypted (``app.lab.secrets``); its last 4 characters
are kept apart so a page can say which key is set without decrypting it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models._types import UTCDateTime, utcnow


class LabTeacher(Base):
    """An OpenAI-compatible endpoint that answers questions, or the project's target
    (``kind='target'``: the target's own answers, no key)."""

    __tablename__ = "lab_teachers"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="endpoint")  # endpoint|target
    base_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    model: Mapped[str] = mapped_column(String(500))
    api_key_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    api_key_last4: Mapped[str | None] = mapped_column(String(4), nullable=True)
    max_concurrency: Mapped[int] = mapped_column(Integer, default=4)
    # tokenizer.json of the teacher's model, when known: token estimates count with it
    tokenizer_path: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LabRecipe(Base):
    """A named strategy recipe; its content lives in versions (editing adds one)."""

    __tablename__ = "lab_recipes"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LabRecipeVersion(Base):
    """One immutable version of a recipe: what every answer it made was made with."""

    __tablename__ = "lab_recipe_versions"
    __table_args__ = (UniqueConstraint("recipe_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipe_id: Mapped[int] = mapped_column(
        ForeignKey("lab_recipes.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="teacher")  # teacher|rule
    teacher_id: Mapped[int | None] = mapped_column(
        # checked at commit: a project's cascade deletes its teachers and its recipes'
        # versions by two paths, and Postgres checks even NO ACTION before the second ends
        ForeignKey("lab_teachers.id", deferrable=True, initially="DEFERRED"),
        nullable=True,
        index=True,
    )
    system_template: Mapped[str] = mapped_column(Text, default="")
    user_template: Mapped[str] = mapped_column(Text, default="")
    examples: Mapped[list[str]] = mapped_column(JSON, default=list)
    temperature: Mapped[float] = mapped_column(Float, default=0.0)
    top_p: Mapped[float] = mapped_column(Float, default=1.0)
    max_tokens: Mapped[int] = mapped_column(Integer, default=512)
    strip_prefix: Mapped[str] = mapped_column(String(200), default="")
    stop_marker: Mapped[str] = mapped_column(String(200), default="")
    preset: Mapped[str | None] = mapped_column(String(40), nullable=True)
    source: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LabPrice(Base):
    """What a model costs the project, per million tokens (prompt and completion), in the
    project's currency; a model without a row costs nothing (a local server). Per project:
    teams pay different prices, and one team's edit must not change another's budget."""

    __tablename__ = "lab_prices"
    __table_args__ = (UniqueConstraint("project_id", "model"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    model: Mapped[str] = mapped_column(String(500))
    prompt_per_mtok: Mapped[float] = mapped_column(Float, default=0.0)
    completion_per_mtok: Mapped[float] = mapped_column(Float, default=0.0)


class LabBudget(Base):
    """The most all of a project's lab runs together may spend (``limit``: None, no
    limit), and the currency its prices and budgets are in (a label only)."""

    __tablename__ = "lab_budgets"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    limit: Mapped[float | None] = mapped_column(Float, nullable=True)
    currency: Mapped[str] = mapped_column(String(10), default="USD")


class LabAnswer(Base):
    """One generated answer, cached by ``cache_key`` (endpoint, model, recipe version,
    sampling parameters, question): a later or resumed run reuses it instead of paying."""

    __tablename__ = "lab_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    cache_key: Mapped[str] = mapped_column(String(64), unique=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    recipe_version_id: Mapped[int] = mapped_column(
        ForeignKey("lab_recipe_versions.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True
    )
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)  # who paid
    raw_text: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    finish_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty|refused|truncated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LabFault(Base):
    """A request that failed (429, 5xx, timeout, connection, malformed body) or gave up."""

    __tablename__ = "lab_faults"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    recipe_version_id: Mapped[int] = mapped_column(
        ForeignKey("lab_recipe_versions.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    detail: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
