"""The token_surprise job after a real scan: its per-token values give the scan's PPL / SPPL."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import pytest
import torch
from sqlalchemy import select

from app.db import session_scope
from app.jobs import lifecycle
from app.models import ScanValue, TokenSurprise
from tests.paths import GSM8K_DIR
from workers.tasks import execute

pytestmark = pytest.mark.slow
SETTINGS = {
    "metrics": ["ppl", "sppl"],
    "sample": 2,
    "pool": 2,
    "examples": 1,
    "max_new_tokens": 24,
    "allow_unfiltered_fallback": True,
    "dtype": "float32",
}


@pytest.fixture
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # a shared 2-core machine: see tests/scoring/conftest.py
    yield
    torch.set_num_threads(before)


def _project(client) -> int:  # type: ignore[no-untyped-def]
    client.cookies.clear()  # a script: no CSRF token needed in single mode
    pid = client.post("/api/v1/projects", json={"name": "surprise"}).json()["id"]
    for name in ("gpt4", "simple_response"):
        rows = json.loads((GSM8K_DIR / f"{name}.json").read_text())[:6]
        files = [("files", (f"{name}.json", json.dumps(rows).encode(), "application/json"))]
        r = client.post(f"/api/v1/projects/{pid}/uploads", files=files, data={"strategy": name})
        assert r.status_code == 201, r.text
    return pid


def _run(client, url: str, body: dict | None = None) -> dict:  # type: ignore[no-untyped-def]
    """POST the job, then run it here, as the worker would."""
    client.cookies.clear()
    job = client.post(url, json=body).json()
    job = job.get("job", job)
    with session_scope() as session:
        lease = lifecycle.claim(session, job_id=job["id"], owner="test-worker")
    execute(lease, job["kind"], job["spec"], job["project_id"])
    done = client.get(f"/api/v1/jobs/{job['id']}").json()
    assert done["status"] == "succeeded", done["error"]
    return done


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_surprise_job_agrees_with_the_scan(client, session, _one_thread) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client)
    scan = _run(client, f"/api/v1/projects/{pid}/scans", SETTINGS)
    sid = scan["spec"]["scan_id"]
    values = session.execute(
        select(
            ScanValue.question_id, ScanValue.strategy_id, ScanValue.metric, ScanValue.value
        ).where(ScanValue.scan_id == sid, ScanValue.metric.in_(["ppl", "sppl"]))
    ).all()
    qid = values[0][0]
    job = _run(client, f"/api/v1/projects/{pid}/scans/{sid}/questions/{qid}/token-surprise")
    stored_row = session.scalars(
        select(TokenSurprise).where(TokenSurprise.scan_id == sid, TokenSurprise.question_id == qid)
    ).one()  # the one row of this scan and question, saved with the job's success
    contexts = stored_row.contexts
    assert stored_row.job_id == job["id"] and stored_row.model["dtype"] == "float32"
    assert set(contexts) == {"ppl", "sppl"} and job["done"] == job["total"] == 4
    checked = 0
    for question_id, strategy_id, metric, value in values:
        if question_id != qid:
            continue
        stored = contexts[metric][str(strategy_id)]
        logprobs = [lp for _, lp in stored["tokens"]]
        assert math.exp(-sum(logprobs) / len(logprobs)) == pytest.approx(value, rel=1e-3)
        checked += 1
    assert checked == 4
    page = client.get(f"/api/v1/projects/{pid}/scans/{sid}/questions/{qid}").json()
    assert page["surprise"]["context"] == "sppl" and len(page["surprise"]["responses"]) == 2
