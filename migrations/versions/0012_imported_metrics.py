"""imported metrics and question categories

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(column: str, table: str, referred: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{referred}.id"],
        name=op.f(f"fk_{table}_{column}_{referred}"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    with op.batch_alter_table("questions") as batch:
        batch.add_column(sa.Column("category", sa.String(length=200), nullable=True))
    op.create_table(
        "imported_metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("lower_is_better", sa.Boolean(), nullable=False),
        sa.Column("per", sa.String(length=20), nullable=False),
        sa.Column("source_filename", sa.String(length=500), nullable=False),
        sa.Column("n_values", sa.Integer(), nullable=False),
        sa.Column("n_samples", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("project_id", "imported_metrics", "projects"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_metrics")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_imported_metrics_project_id_name")),
    )
    with op.batch_alter_table("imported_metrics") as batch:
        batch.create_index(batch.f("ix_imported_metrics_project_id"), ["project_id"])
    op.create_table(
        "imported_metric_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("strategy_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("sample", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        _fk("metric_id", "imported_metric_values", "imported_metrics"),
        _fk("strategy_id", "imported_metric_values", "strategies"),
        _fk("question_id", "imported_metric_values", "questions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_metric_values")),
    )
    with op.batch_alter_table("imported_metric_values") as batch:
        batch.create_index(batch.f("ix_imported_metric_values_metric_id"), ["metric_id"])


def downgrade() -> None:
    op.drop_table("imported_metric_values")
    op.drop_table("imported_metrics")
    with op.batch_alter_table("questions") as batch:
        batch.drop_column("category")
