"""scan_vectors: per-response vectors of a metric (GRACE's projected gradients)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-09 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(column: str, referred: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{referred}.id"],
        name=op.f(f"fk_scan_vectors_{column}_{referred}"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "scan_vectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("strategy_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=20), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        _fk("scan_id", "scans"),
        _fk("strategy_id", "strategies"),
        _fk("question_id", "questions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_vectors")),
        sa.UniqueConstraint(
            "scan_id",
            "strategy_id",
            "question_id",
            "metric",
            name=op.f("uq_scan_vectors_scan_id_strategy_id_question_id_metric"),
        ),
    )
    op.create_index(op.f("ix_scan_vectors_scan_id"), "scan_vectors", ["scan_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_scan_vectors_scan_id"), table_name="scan_vectors")
    op.drop_table("scan_vectors")
