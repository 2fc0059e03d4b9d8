"""strategy lab: lab_teachers, lab_recipes, lab_recipe_versions, lab_prices, lab_budgets,
lab_answers, lab_faults (issue 21)

Teachers (OpenAI-compatible endpoints, keys stored encrypted), versioned recipes, a price
table per project and model, a budget per project, every generated answer keyed for reuse,
every failed request. New tables, and one nullable column: ``strategies.lab``, the
provenance of a strategy the lab made.

It follows 0020 (issue 20: artifact keys).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", sa.Integer(), primary_key=True)


def _created() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def _fk(name: str, table: str, ondelete: str | None, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    # no ondelete: the reference is checked at commit (a project's cascade removes both ends)
    key = (
        sa.ForeignKey(f"{table}.id", ondelete=ondelete)
        if ondelete
        else sa.ForeignKey(f"{table}.id", deferrable=True, initially="DEFERRED")
    )
    return sa.Column(name, sa.Integer(), key, nullable=nullable)


def _teachers_and_recipes() -> None:
    op.create_table(
        "lab_teachers",
        _id(),
        _fk("project_id", "projects", "CASCADE"),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("base_url", sa.String(500), nullable=True),
        sa.Column("model", sa.String(500), nullable=False),
        sa.Column("api_key_encrypted", sa.Text(), nullable=True),
        sa.Column("api_key_last4", sa.String(4), nullable=True),
        sa.Column("max_concurrency", sa.Integer(), nullable=False),
        sa.Column("tokenizer_path", sa.String(1000), nullable=True),
        _created(),
        sa.UniqueConstraint("project_id", "name"),
    )
    op.create_index(op.f("ix_lab_teachers_project_id"), "lab_teachers", ["project_id"])
    op.create_table(
        "lab_recipes",
        _id(),
        _fk("project_id", "projects", "CASCADE"),
        sa.Column("name", sa.String(100), nullable=False),
        _created(),
        sa.UniqueConstraint("project_id", "name"),
    )
    op.create_index(op.f("ix_lab_recipes_project_id"), "lab_recipes", ["project_id"])
    op.create_table(
        "lab_recipe_versions",
        _id(),
        _fk("recipe_id", "lab_recipes", "CASCADE"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        _fk("teacher_id", "lab_teachers", None, nullable=True),
        sa.Column("system_template", sa.Text(), nullable=False),
        sa.Column("user_template", sa.Text(), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("temperature", sa.Float(), nullable=False),
        sa.Column("top_p", sa.Float(), nullable=False),
        sa.Column("max_tokens", sa.Integer(), nullable=False),
        sa.Column("strip_prefix", sa.String(200), nullable=False),
        sa.Column("stop_marker", sa.String(200), nullable=False),
        sa.Column("preset", sa.String(40), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        _created(),
        sa.UniqueConstraint("recipe_id", "version"),
    )
    for column in ("recipe_id", "teacher_id"):
        op.create_index(op.f(f"ix_lab_recipe_versions_{column}"), "lab_recipe_versions", [column])


def _prices_answers_faults() -> None:
    op.create_table(
        "lab_prices",
        _id(),
        _fk("project_id", "projects", "CASCADE"),
        sa.Column("model", sa.String(500), nullable=False),
        sa.Column("prompt_per_mtok", sa.Float(), nullable=False),
        sa.Column("completion_per_mtok", sa.Float(), nullable=False),
        sa.UniqueConstraint("project_id", "model"),
    )
    op.create_index(op.f("ix_lab_prices_project_id"), "lab_prices", ["project_id"])
    op.create_table(
        "lab_budgets",
        sa.Column(
            "project_id",
            sa.Integer(),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("limit", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(10), nullable=False),
    )
    op.create_table(
        "lab_answers",
        _id(),
        sa.Column("cache_key", sa.String(64), nullable=False, unique=True),
        _fk("project_id", "projects", "CASCADE"),
        _fk("recipe_version_id", "lab_recipe_versions", "CASCADE"),
        _fk("question_id", "questions", "CASCADE"),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("raw_text", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("finish_reason", sa.String(40), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        _created(),
    )
    for column in ("project_id", "recipe_version_id", "question_id", "job_id"):
        op.create_index(op.f(f"ix_lab_answers_{column}"), "lab_answers", [column])
    op.create_table(
        "lab_faults",
        _id(),
        sa.Column("job_id", sa.Integer(), nullable=True),
        _fk("recipe_version_id", "lab_recipe_versions", "CASCADE"),
        _fk("question_id", "questions", "CASCADE"),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        _created(),
    )
    for column in ("job_id", "recipe_version_id"):
        op.create_index(op.f(f"ix_lab_faults_{column}"), "lab_faults", [column])


def upgrade() -> None:
    _teachers_and_recipes()
    _prices_answers_faults()
    # a strategy the lab made keeps its provenance (recipe version, teacher, cost)
    with op.batch_alter_table("strategies") as batch:
        batch.add_column(sa.Column("lab", sa.JSON(), nullable=True))
    # every project has its built-in teacher, the target itself (new projects get it when
    # created): reading the lab never has to write it
    op.execute(
        "INSERT INTO lab_teachers (project_id, name, kind, model, max_concurrency, created_at) "
        "SELECT id, 'target', 'target', target_model, 4, CURRENT_TIMESTAMP FROM projects"
    )


def downgrade() -> None:
    with op.batch_alter_table("strategies") as batch:
        batch.drop_column("lab")
    for table in (
        "lab_faults",
        "lab_answers",
        "lab_budgets",
        "lab_prices",
        "lab_recipe_versions",
        "lab_recipes",
        "lab_teachers",
    ):
        op.drop_table(table)
