"""The load bench's checks on a real database: they find a lost, a duplicated and a mixed
upload, and a job that ran twice; and the bench runs end to end on a tiny team deployment."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db import get_engine
from app.jobs import lifecycle
from app.schemas.projects import ProjectCreate
from app.services.projects import create_project
from app.services.uploads import ingest_files
from bench.load_bench import jsonl, strategy_rows, verify, verify_jobs
from tests.paths import ROOT


def _upload(session: Session, n: int = 4) -> tuple[int, dict[str, dict[str, str]]]:
    pid = create_project(session, data=ProjectCreate(name="p")).id
    sent = {name: strategy_rows(name, n) for name in ("a", "b")}
    for name, rows in sent.items():
        ingest_files(
            session, project_id=pid, files=[(f"{name}.jsonl", jsonl(rows))], strategy_name=name
        )
    session.commit()
    return pid, sent


def test_the_checks_find_lost_duplicated_and_mixed_uploads(session: Session) -> None:
    pid, sent = _upload(session)
    engine = get_engine()
    assert verify(engine, pid, sent) == {"lost": 0, "duplicated": 0, "mixed": 0}
    with engine.begin() as conn:
        ids = (
            conn.execute(
                text("SELECT id FROM questions WHERE project_id = :p ORDER BY id"), {"p": pid}
            )
            .scalars()
            .all()
        )
        # a second row for question 0 (what unsafe concurrent matching makes), b's answer
        # moved there; a's response to question 1 swapped for b's; b's response to 2 gone
        conn.execute(
            text(
                "INSERT INTO questions (project_id, text_key, text, position) "
                "SELECT project_id, text_key, text, 99 FROM questions WHERE id = :q"
            ),
            {"q": ids[0]},
        )
        copy = conn.scalar(text("SELECT max(id) FROM questions"))
        conn.execute(
            text(
                "UPDATE responses SET question_id = :c WHERE question_id = :q AND "
                "strategy_id = (SELECT id FROM strategies WHERE name = 'b')"
            ),
            {"c": copy, "q": ids[0]},
        )
        conn.execute(
            text(
                "UPDATE responses SET text = 'wrong' WHERE question_id = :q AND "
                "strategy_id = (SELECT id FROM strategies WHERE name = 'a')"
            ),
            {"q": ids[1]},
        )
        conn.execute(
            text(
                "DELETE FROM responses WHERE question_id = :q AND "
                "strategy_id = (SELECT id FROM strategies WHERE name = 'b')"
            ),
            {"q": ids[2]},
        )
    assert verify(engine, pid, sent) == {"lost": 1, "duplicated": 1, "mixed": 1}
    missing = {**sent, "c": strategy_rows("c", 4)}  # answered 201, never stored
    assert verify(engine, pid, missing)["lost"] == 1 + 4


def test_the_job_check_finds_unfinished_and_repeated_jobs(session: Session) -> None:
    pid, _ = _upload(session)
    engine = get_engine()
    assert verify_jobs(engine, pid)["jobs_unfinished"] == 2  # one analyze job per upload
    first, second = session.scalars(text("SELECT id FROM jobs ORDER BY id")).all()
    for job_id in (first, second):
        lifecycle.end(
            session,
            lifecycle.claim(session, job_id=job_id, owner="w"),
            lifecycle.JobState.SUCCEEDED,
        )
    session.execute(text("UPDATE jobs SET attempts = 2 WHERE id = :j"), {"j": second})
    session.commit()
    assert verify_jobs(engine, pid) == {
        "jobs": 2,
        "jobs_unfinished": 0,
        "jobs_failed": 0,
        "jobs_not_once": 1,
    }


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_the_bench_runs_on_a_tiny_team_deployment(settings_env: str) -> None:
    cmd = [
        sys.executable,
        "bench/load_bench.py",
        "--clients",
        "4",
        "--requests",
        "40",
        "--strategies",
        "3",
        "--questions",
        "20",
        "--no-scan",
        "--ports",
        "8146,8147",
    ]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result["requests"] == 40 and result["rps"] > 0 and result["p95_ms"] > 0
    assert result["lost"] == 0 and result["mixed"] == 0
    assert result["jobs_unfinished"] == 0 and result["jobs_not_once"] == 0
    assert "project page" in r.stdout
    team = result["deployment"]  # everything it started is gone, the database too
    assert sorted(team["processes"]) == [
        "web-1",
        "web-2",
        "worker-cpu",
        "worker-gpu",
        "worker-network",
    ]
    for port in (8146, 8147):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0
    with get_engine().connect() as conn:
        assert not conn.scalar(
            text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": team["database"]}
        )
    # Last: what the cross-process upload fix of issue 11 makes true (before it, the second
    # same-named upload in another process answered 500, and shared questions were stored
    # once per strategy).
    assert result["uploads"]["twin"] == [201, 409] and result["errors_5xx"] == 0
    assert result["duplicated"] == 0
