"""scans.primary_metric, recommended, evidence: the report's recommendation as columns

Listings (the home page, the project page) show each project's newest recommendation; read
from the JSON report it cost a parse of the whole report per project and request.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

scans = sa.table(
    "scans",
    sa.column("id", sa.Integer),
    sa.column("report", sa.JSON),
    sa.column("primary_metric", sa.String),
    sa.column("recommended", sa.String),
    sa.column("evidence", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("scans") as batch:
        batch.add_column(sa.Column("primary_metric", sa.String(60), nullable=True))
        batch.add_column(sa.Column("recommended", sa.String(200), nullable=True))
        batch.add_column(sa.Column("evidence", sa.String(20), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.select(scans.c.id, scans.c.report).where(scans.c.report.is_not(None)))
    for scan_id, report in rows.all():
        rec = (report or {}).get("recommendation") or {}
        conn.execute(
            scans.update()
            .where(scans.c.id == scan_id)
            .values(
                primary_metric=(report or {}).get("primary"),
                recommended=rec.get("top"),
                evidence=rec.get("evidence"),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("scans") as batch:
        batch.drop_column("evidence")
        batch.drop_column("recommended")
        batch.drop_column("primary_metric")
