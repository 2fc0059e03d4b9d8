"""Migration 0005 upgrades a database written by the code before it, scans intact.

The database is built at revision 0004 and filled the way that code stored a finished scan
(values, then ``summary = {..., "aggregates": ..., "report": build_report(...)}``), a
failed scan, and a finished token_surprise job; then it is upgraded to head and read
through today's models and services.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from app import db as app_db
from app.migrate import alembic_config
from app.models import Job, Scan, ScanAggregate, ScanValue, TokenSurprise
from app.scans.report import ScanReport
from app.scans.status import scan_status
from app.services.scan_report import build_report
from tests.conftest import PG_ADMIN_URL

NOW = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"familiar_mig_{uuid.uuid4().hex[:10]}"
    admin = app_db.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _migrate(engine: sa.Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _old_database(engine: sa.Engine) -> dict[str, int]:
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    values = {"ppl": {"alpha": {"1": 2.0, "2": 2.5}, "beta": {"1": 3.0, "2": 3.5}}}
    report = build_report(values, truncated={}, seed=0)
    aggregates = {
        "ppl": [
            {
                "strategy_id": sid,
                "strategy": r["name"],
                **{k: r[k] for k in ("n", "mean", "median", "std", "ci_low", "ci_high", "rank")},
            }
            for sid, r in zip(
                (1, 2), report["per_metric"]["ppl"]["ranking"]["strategies"], strict=True
            )
        ]
    }
    job = dict(
        queue="gpu",
        project_id=1,
        phase="",
        done=0,
        total=0,
        progress_extra={},
        log="",
        attempts=1,
        created_at=NOW,
        result=None,
    )
    with engine.begin() as conn:
        conn.execute(
            t["projects"].insert(),
            [
                dict(
                    id=1,
                    name="old",
                    description="",
                    target_model="m",
                    is_demo=False,
                    created_at=NOW,
                )
            ],
        )
        conn.execute(
            t["strategies"].insert(),
            [
                dict(
                    id=i,
                    project_id=1,
                    name=n,
                    source_filename=f"{n}.json",
                    file_format="json",
                    layout="research",
                    origin="upload",
                    created_at=NOW,
                )
                for i, n in ((1, "alpha"), (2, "beta"))
            ],
        )
        conn.execute(
            t["questions"].insert(),
            [
                dict(
                    id=q,
                    project_id=1,
                    position=q,
                    text=f"q{q}",
                    text_key=f"q{q}",
                    gold=None,
                    external_id=None,
                )
                for q in (1, 2)
            ],
        )
        conn.execute(
            t["jobs"].insert(),
            [
                {**job, "id": 1, "kind": "scan", "status": "succeeded", "spec": {"scan_id": 1}},
                {**job, "id": 2, "kind": "scan", "status": "running", "spec": {"scan_id": 2}},
                {
                    **job,
                    "id": 3,
                    "kind": "token_surprise",
                    "status": "succeeded",
                    "spec": {"scan_id": 1, "question_id": 2},
                    "finished_at": NOW,
                    "result": {
                        "contexts": {"ppl": {"1": {"tokens": [["x", -1.0]], "truncated": False}}},
                        "model": {"dtype": "float32"},
                    },
                },
                {
                    **job,
                    "id": 4,
                    "kind": "token_surprise",
                    "status": "failed",
                    "spec": {"scan_id": 1, "question_id": 2},
                },
            ],
        )
        conn.execute(
            t["scans"].insert(),
            [
                dict(
                    id=1,
                    project_id=1,
                    job_id=1,
                    status="succeeded",
                    model_name="m",
                    model_key="m|x",
                    spec={"metrics": ["ppl"], "strategy_ids": [1, 2]},
                    summary={
                        "report": report,
                        "aggregates": aggregates,
                        "warnings": ["w"],
                        "sample": [1, 2],
                    },
                    created_at=NOW,
                    finished_at=NOW,
                ),
                dict(
                    id=2,
                    project_id=1,
                    job_id=2,
                    status="failed",
                    model_name="m",
                    model_key="",
                    spec={"metrics": ["ppl"]},
                    summary=None,
                    created_at=NOW,
                    finished_at=None,
                ),
            ],
        )
        conn.execute(
            t["scan_values"].insert(),
            [
                dict(
                    scan_id=1,
                    strategy_id=s,
                    question_id=int(q),
                    metric="ppl",
                    value=v,
                    n_tokens=3,
                    truncated=False,
                )
                for name, s in (("alpha", 1), ("beta", 2))
                for q, v in values["ppl"][name].items()
            ],
        )
    return {"report_primary": 1}


def test_upgrade_keeps_scans_and_moves_them_to_the_result_tables(fresh_url: str) -> None:
    engine = app_db.make_engine(fresh_url)
    try:
        _migrate(engine, "0004")
        _old_database(engine)
        _migrate(engine, "head")
        with Session(engine) as s:
            done, failed = s.get(Scan, 1), s.get(Scan, 2)
            assert done is not None and failed is not None
            report = ScanReport.model_validate(done.report)
            assert report.primary == "ppl" and report.per_metric["ppl"].order == ["alpha", "beta"]
            assert done.summary == {"warnings": ["w"], "sample": [1, 2]}
            aggs = s.scalars(sa.select(ScanAggregate).order_by(ScanAggregate.rank)).all()
            assert [(a.strategy_id, a.rank, a.mean) for a in aggs] == [(1, 1, 2.25), (2, 2, 3.25)]
            assert (done.job_id, failed.job_id) == (1, 2)  # no table rebuild nulled them
            assert scan_status(done, s.get(Job, 1)) == "succeeded"
            assert scan_status(failed, s.get(Job, 2)) == "failed" and failed.report is None
            n_values = s.scalar(sa.select(sa.func.count()).select_from(ScanValue))
            assert n_values == 4  # the scan's values survive the column drop
            surprise = s.scalars(sa.select(TokenSurprise)).one()
            assert (surprise.scan_id, surprise.question_id, surprise.job_id) == (1, 2, 4)
            assert surprise.contexts["ppl"]["1"]["tokens"] == [["x", -1.0]]
    finally:
        engine.dispose()
