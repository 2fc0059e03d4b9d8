"""responses.verdict_source, verdict_by, verdict_at; projects.verdicts_from

Where each response's verdict comes from: Familiar's judge, no fitting judge ("not judged"),
the file's own `correct` field, or a person who set it by hand (who and when). A project
chooses whether the file's verdicts replace the judge's. Responses judged before this
revision have no source yet, so the analyze job judges them again on start.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("verdict_source", sa.String(20), nullable=True))
        batch.add_column(sa.Column("verdict_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("verdict_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("projects") as batch:
        batch.add_column(
            sa.Column("verdicts_from", sa.String(10), nullable=False, server_default="judge")
        )


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("verdicts_from")
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("verdict_at")
        batch.drop_column("verdict_by")
        batch.drop_column("verdict_source")
