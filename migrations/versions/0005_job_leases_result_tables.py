"""job leases and cancel; typed scan result tables; scan status from its job

Revision ID: 0005
Revises: 0004

- jobs.owner: the lease holder (host:pid) of a running job.
- scans.report: the chart payloads, moved out of scans.summary["report"].
- scan_aggregates: one row per (scan, strategy, metric), from summary["aggregates"].
- token_surprises: one row per (scan, question), from the newest token_surprise job.
- scans.status dropped: a scan's status is its job's; finished_at marks stored results.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AGG_FIELDS = ("n", "mean", "median", "std", "ci_low", "ci_high", "rank")


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report", sa.JSON(), nullable=True))
    _create_aggregates()
    _create_token_surprises()
    _move_scan_data()
    _move_token_surprises()
    _drop_scan_status()


def _drop_scan_status() -> None:
    """Drop scans.status in place. Batch mode would rebuild the table on SQLite, and with
    foreign keys on, dropping the old table deletes every scan value by cascade."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        import sqlite3

        if sqlite3.sqlite_version_info < (3, 35):
            raise RuntimeError("SQLite 3.35 or newer is needed (ALTER TABLE DROP COLUMN)")
        op.execute("ALTER TABLE scans DROP COLUMN status")
    else:
        op.drop_column("scans", "status")


def _create_aggregates() -> None:
    op.create_table(
        "scan_aggregates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("strategy_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=True),
        sa.Column("median", sa.Float(), nullable=True),
        sa.Column("std", sa.Float(), nullable=True),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["scan_id"],
            ["scans.id"],
            name=op.f("fk_scan_aggregates_scan_id_scans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["strategy_id"],
            ["strategies.id"],
            name=op.f("fk_scan_aggregates_strategy_id_strategies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_aggregates")),
        sa.UniqueConstraint(
            "scan_id",
            "strategy_id",
            "metric",
            name=op.f("uq_scan_aggregates_scan_id_strategy_id_metric"),
        ),
    )
    with op.batch_alter_table("scan_aggregates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_aggregates_scan_id"), ["scan_id"], unique=False)


def _create_token_surprises() -> None:
    op.create_table(
        "token_surprises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("contexts", sa.JSON(), nullable=True),
        sa.Column("model", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.id"],
            name=op.f("fk_token_surprises_job_id_jobs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_token_surprises_question_id_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scan_id"],
            ["scans.id"],
            name=op.f("fk_token_surprises_scan_id_scans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_surprises")),
        sa.UniqueConstraint(
            "scan_id", "question_id", name=op.f("uq_token_surprises_scan_id_question_id")
        ),
    )
    with op.batch_alter_table("token_surprises", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_token_surprises_scan_id"), ["scan_id"], unique=False)


def _tables() -> dict[str, sa.Table]:
    meta = sa.MetaData()
    return {
        name: sa.Table(name, meta, autoload_with=op.get_bind())
        for name in ("scans", "jobs", "scan_aggregates", "token_surprises")
    }


def _json(table: sa.Table, *names: str) -> list[Any]:
    """Columns read as JSON (reflection on SQLite sees JSON as plain text otherwise)."""
    return [sa.type_coerce(table.c[n], sa.JSON()).label(n) for n in names]


def _move_scan_data() -> None:
    bind, t = op.get_bind(), _tables()
    scans, jobs, aggs = t["scans"], t["jobs"], t["scan_aggregates"]
    rows = bind.execute(
        sa.select(
            scans.c.id,
            scans.c.status,
            scans.c.finished_at,
            scans.c.created_at,
            *_json(scans, "summary"),
        )
    ).all()
    for scan_id, status, finished_at, created_at, summary in rows:
        summary = dict(summary or {})
        report = summary.pop("report", None)
        aggregates = summary.pop("aggregates", None) or {}
        done = status == "succeeded" and report is not None
        bind.execute(
            sa.update(scans)
            .where(scans.c.id == scan_id)
            .values(
                summary=summary or None,
                report=report if done else None,
                finished_at=(finished_at or created_at) if done else None,
            )
        )
        for metric, per in aggregates.items() if done else ():
            for row in per:
                bind.execute(
                    sa.insert(aggs).values(
                        scan_id=scan_id,
                        strategy_id=row["strategy_id"],
                        metric=metric,
                        **{k: row.get(k) for k in AGG_FIELDS},
                    )
                )
        if status == "failed":  # keep a failed scan failed even where its job row says other
            bind.execute(
                sa.update(jobs)
                .where(
                    jobs.c.id
                    == sa.select(scans.c.job_id).where(scans.c.id == scan_id).scalar_subquery(),
                    jobs.c.status.in_(("queued", "running")),
                )
                .values(status="failed")
            )


def _move_token_surprises() -> None:
    """One row per (scan, question): the newest job, and the newest succeeded job's result."""
    bind, t = op.get_bind(), _tables()
    jobs, surprises = t["jobs"], t["token_surprises"]
    rows = bind.execute(
        sa.select(
            jobs.c.id,
            jobs.c.status,
            jobs.c.created_at,
            jobs.c.finished_at,
            *_json(jobs, "spec", "result"),
        )
        .where(jobs.c.kind == "token_surprise")
        .order_by(jobs.c.id.desc())
    ).all()
    found: dict[tuple[int, int], dict[str, Any]] = {}
    for job_id, status, created_at, finished_at, spec, result in rows:
        key = (int((spec or {}).get("scan_id", 0)), int((spec or {}).get("question_id", 0)))
        row = found.setdefault(key, {"job_id": job_id, "created_at": created_at})
        if status == "succeeded" and result and "contexts" not in row:
            row.update(
                contexts=result.get("contexts"), model=result.get("model"), finished_at=finished_at
            )
    for (scan_id, question_id), row in found.items():
        exists = bind.execute(
            sa.text(
                "SELECT (SELECT COUNT(*) FROM scans WHERE id = :s) + "
                "(SELECT COUNT(*) FROM questions WHERE id = :q)"
            ),
            {"s": scan_id, "q": question_id},
        ).scalar()
        if exists == 2:
            bind.execute(
                sa.insert(surprises).values(scan_id=scan_id, question_id=question_id, **row)
            )


def downgrade() -> None:
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), nullable=False, server_default="queued")
        )
    op.execute("UPDATE scans SET status = 'succeeded' WHERE finished_at IS NOT NULL")
    with op.batch_alter_table("token_surprises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_token_surprises_scan_id"))
    op.drop_table("token_surprises")
    with op.batch_alter_table("scan_aggregates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_aggregates_scan_id"))
    op.drop_table("scan_aggregates")
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.drop_column("report")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("owner")
