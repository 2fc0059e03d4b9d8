"""A planning project (tests.app.planning_task) uploaded and judged, and what the verdict
tests read of it."""

from __future__ import annotations

import json

import pytest

from tests.app.planning_task import STRATEGIES, rows
from tests.jobs.contexts import claimed_context
from workers.jobs.analyze import analyze_responses

ANALYZE_TOKENIZER = "workers.jobs.analyze.load_tokenizer"
SCAN = {"metrics": ["ppl"], "sample": 10, "samples": 1, "model": "packaged:SmolLM2-135M-Instruct"}


def upload_planning(client, correct_as=None) -> int:  # type: ignore[no-untyped-def]
    pid = client.post("/api/v1/projects", json={"name": "blocksworld"}).json()["id"]
    for name in STRATEGIES:
        data = "".join(json.dumps(r) + "\n" for r in rows(name, correct_as)).encode()
        files = [("files", (f"{name}.jsonl", data, "application/json"))]
        upload = client.post(f"/api/v1/projects/{pid}/uploads", files=files)
        assert upload.status_code == 201, upload.text
        analyze_responses(claimed_context(upload.json()["job_id"]))
    return pid


def shares(client, pid: int) -> dict[str, tuple[float | None, int, int]]:  # type: ignore[no-untyped-def]
    strategies = client.get(f"/api/v1/projects/{pid}").json()["strategies"]
    return {s["name"]: (s["share_correct"], s["n_checked"], s["n_not_judged"]) for s in strategies}


def scan_project(client, pid: int, monkeypatch: pytest.MonkeyPatch) -> dict:  # type: ignore[no-untyped-def]
    from tests.app.test_headless_import import tiny_target
    from workers.jobs.scan import run_scan_job

    monkeypatch.setattr("workers.modeling.load_target", lambda *a, **k: tiny_target())
    r = client.post(f"/api/v1/projects/{pid}/scans", json=SCAN)
    assert r.status_code == 201, r.text
    run_scan_job(claimed_context(r.json()["job"]["id"]))
    return client.get(f"/api/v1/projects/{pid}/scans/{r.json()['id']}").json()


def response_ids(session, pid: int, strategy: str) -> list[int]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from app.models import Question, Response, Strategy

    return list(
        session.scalars(
            select(Response.id)
            .join(Strategy, Strategy.id == Response.strategy_id)
            .join(Question, Question.id == Response.question_id)
            .where(Strategy.project_id == pid, Strategy.name == strategy)
            .order_by(Question.position)
        )
    )
