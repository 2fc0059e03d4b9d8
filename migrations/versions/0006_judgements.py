"""judgements per response, answer type per question, import report, file verdicts

Revision ID: 0006
Revises: 0005 (re-chained onto 0005 at merge)
Create Date: 2026-12-01 11:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "judgements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("judge", sa.String(length=200), nullable=False),
        sa.Column("answer_type", sa.String(length=20), nullable=False),
        sa.Column("extracted", sa.Text(), nullable=True),
        sa.Column("gold", sa.Text(), nullable=True),
        sa.Column("verdict", sa.Boolean(), nullable=True),
        sa.Column("rule", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_judgements_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judgements")),
        sa.UniqueConstraint("response_id", "judge", name=op.f("uq_judgements_response_id_judge")),
    )
    op.create_index(op.f("ix_judgements_response_id"), "judgements", ["response_id"])
    with op.batch_alter_table("strategies") as batch:
        batch.add_column(sa.Column("import_report", sa.JSON(), nullable=True))
    with op.batch_alter_table("questions") as batch:
        batch.add_column(sa.Column("answer_type", sa.String(length=20), nullable=True))
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("file_correct", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("file_correct")
    with op.batch_alter_table("questions") as batch:
        batch.drop_column("answer_type")
    with op.batch_alter_table("strategies") as batch:
        batch.drop_column("import_report")
    op.drop_index(op.f("ix_judgements_response_id"), table_name="judgements")
    op.drop_table("judgements")
