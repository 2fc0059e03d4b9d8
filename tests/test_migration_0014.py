"""Migration 0014: what a validation's JSON summary held moves to typed columns and tables
(the split to validation_questions, the halving log to halving_rounds), its runs survive
(no table rebuild cascades), and a downgrade rebuilds the summary."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import command

from app import db as app_db
from app.migrate import alembic_config
from tests.test_migration_0005 import _migrate, fresh_url  # noqa: F401 - the fixture

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LOG = [
    {
        "round": 1,
        "at_step": 50,
        "at": AT.isoformat(),
        "scores": {"1": 0.5},
        "kept": [1],
        "stopped": [],
        "next_until_step": 100,
    }
]


def _insert(conn: sa.Connection, t: dict[str, sa.Table], table: str, **values: Any) -> int:
    return int(conn.execute(t[table].insert().values(**values)).inserted_primary_key[0])


def _old_validation(engine: sa.Engine) -> dict[str, Any]:
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    with engine.begin() as c:
        pid = _insert(
            c,
            t,
            "projects",
            name="p",
            description="",
            target_model="m",
            is_demo=False,
            created_at=AT,
        )
        qs = [
            _insert(c, t, "questions", project_id=pid, text_key=f"k{i}", text=f"q{i}", position=i)
            for i in range(3)
        ]
        sid = _insert(
            c,
            t,
            "strategies",
            project_id=pid,
            name="a",
            source_filename="a.json",
            file_format="json",
            layout="qa",
            origin="upload",
            created_at=AT,
        )
        ts = _insert(
            c,
            t,
            "test_sets",
            project_id=pid,
            source="upload",
            filename="t.json",
            n_questions=1,
            created_at=AT,
        )
        tq = _insert(
            c,
            t,
            "test_questions",
            test_set_id=ts,
            position=0,
            text_key="t",
            text="t",
            gold="1",
            line=1,
        )
        summary = {
            "train_question_ids": [qs[2], qs[0]],
            "val_question_ids": [qs[1]],
            "test_question_ids": [tq],
            "n_shared": 3,
            "n_excluded_test_overlap": 1,
            "extractor": "last_number",
            "model": "org/model",
            "halving_log": LOG,
            "cancelled_jobs": 2,
        }
        vid = _insert(
            c,
            t,
            "validations",
            project_id=pid,
            label="",
            spec={},
            summary=summary,
            status="cancelled",
            created_at=AT,
            test_set_id=ts,
        )
        _insert(
            c,
            t,
            "validation_runs",
            validation_id=vid,
            strategy_id=sid,
            seed=0,
            status="trained",
            rung=0,
            steps=5,
        )
    return {"vid": vid, "summary": summary}


def test_the_summary_moves_to_columns_and_tables_and_back(fresh_url: str) -> None:  # noqa: F811
    engine = app_db.make_engine(fresh_url)
    _migrate(engine, "0013")
    old = _old_validation(engine)
    _migrate(engine, "head")
    from sqlalchemy.orm import Session

    from app.models import Validation, ValidationRun

    with Session(engine) as s:
        v = s.get(Validation, old["vid"])
        assert v is not None and (v.model_name, v.extractor, v.cancelled_jobs) == (
            "org/model",
            "last_number",
            2,
        )
        assert v.summary == old["summary"] | {"halving_log": v.summary["halving_log"]}
        entry = v.summary["halving_log"][0]
        assert {k: entry[k] for k in ("round", "kept", "next_until_step")} == {
            "round": 1,
            "kept": [1],
            "next_until_step": 100,
        }
        assert s.scalar(sa.select(sa.func.count(ValidationRun.id))) == 1  # not cascaded away
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0013")
    with engine.connect() as conn:
        raw = conn.execute(sa.text("SELECT summary FROM validations")).scalar_one()
    engine.dispose()
    back = raw if isinstance(raw, dict) else json.loads(raw)
    assert {k: back[k] for k in ("train_question_ids", "test_question_ids", "model")} == {
        k: old["summary"][k] for k in ("train_question_ids", "test_question_ids", "model")
    }
    assert back["halving_log"][0]["kept"] == [1]
