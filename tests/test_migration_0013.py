"""Migration 0013 (jobs.sent_at): jobs that left the queue count as sent; queued ones stay
unsent, so a sweep sends them (again: a second message is harmless)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from app import db as app_db
from tests.test_migration_0005 import _migrate, fresh_url  # noqa: F401 - the fixture

CREATED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_queued_jobs_stay_unsent_and_the_others_count_as_sent(fresh_url: str) -> None:  # noqa: F811
    engine = app_db.make_engine(fresh_url)
    _migrate(engine, "0012")
    jobs = sa.Table("jobs", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        for status in ("queued", "running", "succeeded"):
            conn.execute(
                jobs.insert().values(
                    kind="analyze",
                    queue="cpu",
                    status=status,
                    spec={},
                    phase="",
                    done=0,
                    total=0,
                    progress_extra={},
                    log="",
                    attempts=0,
                    created_at=CREATED,
                )
            )
    _migrate(engine, "head")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT status, sent_at FROM jobs ORDER BY id")).all()
    engine.dispose()
    sent = {status: at for status, at in rows}
    assert sent["queued"] is None and sent["running"] and sent["succeeded"]
