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


# Added and dropped in place (SQLite 3.35+ and Postgres both can): a batch rebuild of
# `projects` or `responses` on SQLite drops the old table, and its ON DELETE CASCADE would
# take validations, questions and responses with it.
RESPONSE_COLUMNS = [
    sa.Column("verdict_source", sa.String(20), nullable=True),
    sa.Column("verdict_by", sa.String(200), nullable=True),
    sa.Column("verdict_at", sa.DateTime(timezone=True), nullable=True),
]


def upgrade() -> None:
    for column in RESPONSE_COLUMNS:
        op.add_column("responses", column)
    op.add_column(
        "projects",
        sa.Column("verdicts_from", sa.String(10), nullable=False, server_default="judge"),
    )


def downgrade() -> None:
    op.drop_column("projects", "verdicts_from")
    for column in reversed(RESPONSE_COLUMNS):
        op.drop_column("responses", column.name)
