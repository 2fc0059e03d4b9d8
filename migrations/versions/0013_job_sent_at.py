"""jobs.sent_at: when the job's id reached the queue broker (null: not sent yet)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 10:00:00

A job created while the broker was away stays queued with sent_at null until a sweep sends
it (app.jobs.enqueue.send_unsent). Jobs that already left the queue were sent; queued ones
may not have been, so they stay null and are sent again (a second message is harmless: the
worker's claim is fenced).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE jobs SET sent_at = created_at WHERE status <> 'queued'")


def downgrade() -> None:
    """In place: a batch rebuild drops the old table, and with foreign keys on, SQLite would
    set the job of every scan and validation run to null."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE jobs DROP COLUMN sent_at")
    else:
        op.drop_column("jobs", "sent_at")
