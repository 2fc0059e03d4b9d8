"""validations: typed columns and tables for what the JSON summary held

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 12:00:00

The resolved model and extractor, the shared and excluded counts, the cancel count and a
failure's reason become columns; the drawn split becomes ``validation_questions`` (one row
per train / val / test question, in order) and the successive-halving log becomes
``halving_rounds``. Existing summaries are copied over, then the ``summary`` column goes.
Columns are added and dropped in place (no batch rebuild: on SQLite a rebuild of
``validations`` would cascade-delete its runs).
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    sa.Column("model_name", sa.String(500), nullable=False, server_default=""),
    sa.Column("extractor", sa.String(40), nullable=False, server_default=""),
    sa.Column("n_shared", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("n_excluded_test_overlap", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("cancelled_jobs", sa.Integer(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
]


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("validations", column)
    questions = _create_questions()
    rounds = _create_rounds()
    _copy_summaries(questions, rounds)
    _drop("summary")


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    name = f"fk_{table}_{column}_{target.split('.')[0]}"
    return sa.ForeignKey(target, name=name, ondelete="CASCADE")


def _create_questions() -> sa.Table:
    t = "validation_questions"
    table = op.create_table(
        t,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "validation_id", sa.Integer(), _fk(t, "validation_id", "validations.id"), nullable=False
        ),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "question_id", sa.Integer(), _fk(t, "question_id", "questions.id"), nullable=True
        ),
        sa.Column(
            "test_question_id",
            sa.Integer(),
            _fk(t, "test_question_id", "test_questions.id"),
            nullable=True,
        ),
        sa.UniqueConstraint(
            "validation_id",
            "role",
            "position",
            name="uq_validation_questions_validation_id_role_position",
        ),
    )
    op.create_index("ix_validation_questions_validation_id", t, ["validation_id"])
    return table


def _create_rounds() -> sa.Table:
    t = "halving_rounds"
    table = op.create_table(
        t,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "validation_id", sa.Integer(), _fk(t, "validation_id", "validations.id"), nullable=False
        ),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("at_step", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("kept", sa.JSON(), nullable=False),
        sa.Column("stopped", sa.JSON(), nullable=False),
        sa.Column("next_until_step", sa.Integer(), nullable=True),
        sa.UniqueConstraint("validation_id", "round", name="uq_halving_rounds_validation_id_round"),
    )
    op.create_index("ix_halving_rounds_validation_id", t, ["validation_id"])
    return table


def _copy_summaries(questions: sa.Table, rounds: sa.Table) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, summary FROM validations")).all()
    table = sa.table(
        "validations",
        sa.column("id", sa.Integer),
        *[sa.column(c.name, c.type) for c in COLUMNS],
    )
    for vid, raw in rows:
        summary = _loads(raw)
        bind.execute(
            table.update()
            .where(table.c.id == vid)
            .values(
                model_name=str(summary.get("model") or "")[:500],
                extractor=str(summary.get("extractor") or "")[:40],
                n_shared=int(summary.get("n_shared") or 0),
                n_excluded_test_overlap=int(summary.get("n_excluded_test_overlap") or 0),
                cancelled_jobs=summary.get("cancelled_jobs"),
            )
        )
        split = [
            {
                "validation_id": vid,
                "role": role,
                "position": i,
                "question_id": None if role == "test" else q,
                "test_question_id": q if role == "test" else None,
            }
            for role in ("train", "val", "test")
            for i, q in enumerate(summary.get(f"{role}_question_ids") or [])
        ]
        if split:
            bind.execute(questions.insert(), split)
        log = [_round(vid, e) for e in summary.get("halving_log") or []]
        if log:
            bind.execute(rounds.insert(), log)


def _round(vid: int, entry: dict[str, Any]) -> dict[str, Any]:
    at = entry.get("at")
    return {
        "validation_id": vid,
        "round": int(entry.get("round") or 0),
        "at_step": int(entry.get("at_step") or 0),
        "at": datetime.fromisoformat(at) if isinstance(at, str) else datetime.now(),
        "scores": entry.get("scores") or {},
        "kept": entry.get("kept") or [],
        "stopped": entry.get("stopped") or [],
        "next_until_step": entry.get("next_until_step"),
    }


def _loads(raw: Any) -> dict[str, Any]:
    import json

    if isinstance(raw, str):
        return json.loads(raw or "{}")
    return dict(raw or {})


def _summary(bind: Any, row: Any) -> dict[str, Any]:
    split = bind.execute(
        sa.text(
            "SELECT role, question_id, test_question_id FROM validation_questions "
            "WHERE validation_id = :v ORDER BY role, position"
        ),
        {"v": row["id"]},
    ).all()
    out: dict[str, Any] = {f"{r}_question_ids": [] for r in ("train", "val", "test")}
    for role, qid, tqid in split:
        out[f"{role}_question_ids"].append(tqid if role == "test" else qid)
    rounds = (
        bind.execute(
            sa.text("SELECT * FROM halving_rounds WHERE validation_id = :v ORDER BY round"),
            {"v": row["id"]},
        )
        .mappings()
        .all()
    )
    out["halving_log"] = [
        {
            k: (_loads(v) if k in ("scores", "kept", "stopped") and isinstance(v, str) else v)
            for k, v in r.items()
            if k not in ("id", "validation_id")
        }
        | {"at": str(r["at"])}
        for r in rounds
    ]
    out |= {
        "model": row["model_name"],
        "extractor": row["extractor"],
        "n_shared": row["n_shared"],
        "n_excluded_test_overlap": row["n_excluded_test_overlap"],
    }
    if row["cancelled_jobs"] is not None:
        out["cancelled_jobs"] = row["cancelled_jobs"]
    return out


def _drop(column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE validations DROP COLUMN {column}")
    else:
        op.drop_column("validations", column)


def downgrade() -> None:
    """The summary rebuilt from the columns and tables, then they go."""
    op.add_column("validations", sa.Column("summary", sa.JSON(), nullable=True))
    bind = op.get_bind()
    table = sa.table("validations", sa.column("id", sa.Integer), sa.column("summary", sa.JSON))
    for row in bind.execute(sa.text("SELECT * FROM validations")).mappings().all():
        bind.execute(
            table.update().where(table.c.id == row["id"]).values(summary=_summary(bind, row))
        )
    op.drop_index("ix_halving_rounds_validation_id", "halving_rounds")
    op.drop_table("halving_rounds")
    op.drop_index("ix_validation_questions_validation_id", "validation_questions")
    op.drop_table("validation_questions")
    for column in reversed(COLUMNS):
        _drop(column.name)
