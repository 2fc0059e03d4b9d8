"""Migration 0019 (questions.tests, tests_field, tests_setup): existing questions get no
tests, their responses survive the upgrade and the downgrade (no table rebuild cascades),
and the new columns hold a code task's tests."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from app import db as app_db
from app.migrate import alembic_config
from tests.test_migration_0005 import _migrate, fresh_url  # noqa: F401 - the fixture

AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _old_project(engine: sa.Engine) -> None:
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    with engine.begin() as c:
        project = dict(name="p", description="", target_model="m", is_demo=False, created_at=AT)
        pid = c.execute(t["projects"].insert().values(**project)).inserted_primary_key[0]
        question = dict(project_id=pid, text_key="k", text="Write f.", gold="x", position=0)
        qid = c.execute(t["questions"].insert().values(**question)).inserted_primary_key[0]
        strategy = dict(
            project_id=pid,
            name="a",
            source_filename="a.jsonl",
            file_format="jsonl",
            layout="qa",
            origin="upload",
            created_at=AT,
        )
        sid = c.execute(t["strategies"].insert().values(**strategy)).inserted_primary_key[0]
        c.execute(
            t["responses"].insert().values(strategy_id=sid, question_id=qid, text="r", line=1)
        )


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_upgrade_and_downgrade_keep_questions_and_responses(fresh_url: str) -> None:  # noqa: F811
    engine = app_db.make_engine(fresh_url)
    _migrate(engine, "0018")
    _old_project(engine)
    _migrate(engine, "0019")
    questions = sa.Table("questions", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        row = conn.execute(sa.select(questions.c.tests, questions.c.tests_field)).one()
        assert tuple(row) == (None, None)
        conn.execute(
            questions.update().values(
                tests=["assert f(1) == 1"], tests_field="test_list", tests_setup="import math"
            )
        )
        stored = conn.execute(sa.select(questions.c.tests, questions.c.tests_setup)).one()
    assert tuple(stored) == (["assert f(1) == 1"], "import math")
    assert (_count(engine, "questions"), _count(engine, "responses")) == (1, 1)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0018")
    names = {c["name"] for c in sa.inspect(engine).get_columns("questions")}
    assert not names & {"tests", "tests_field", "tests_setup"}
    assert (_count(engine, "questions"), _count(engine, "responses")) == (1, 1)
    engine.dispose()
