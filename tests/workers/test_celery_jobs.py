"""Jobs through a real Celery worker on Redis, on SQLite and on Postgres."""

from __future__ import annotations

import pytest

from app.config import get_settings
from tests.paths import GSM8K_DIR
from tests.workers.conftest import wait_for_job, worker_log

pytestmark = pytest.mark.slow


def test_analyze_job_counts_tokens_and_checks_answers(client, celery_worker) -> None:
    pid = client.post("/api/v1/projects", json={"name": "celery"}).json()["id"]
    files = [
        ("files", (n, (GSM8K_DIR / n).read_bytes(), "application/json"))
        for n in ("gpt4.json", "mini_gpt4_simple_response.json")
    ]
    upload = client.post(f"/api/v1/projects/{pid}/uploads", files=files).json()
    job = wait_for_job(client, upload["job_id"])
    assert job["status"] == "succeeded", (job["error"], worker_log(get_settings().data_dir))
    assert job["done"] == job["total"] == 2000
    strategies = client.get(f"/api/v1/projects/{pid}").json()["strategies"]
    for s in strategies:
        assert s["mean_tokens"] and s["mean_tokens"] > 3
        assert s["n_checked"] == 1000
    # The research files carry their own 'correct' flag: our judge should mostly agree.
    gpt4 = next(s for s in strategies if s["name"] == "gpt4")
    assert 0.85 < gpt4["share_correct"] <= 1.0


def test_failed_job_reaches_the_row(client, celery_worker) -> None:
    pid = client.post(
        "/api/v1/projects", json={"name": "broken", "target_model": "/nonexistent/model"}
    ).json()["id"]
    files = [("files", ("a.jsonl", b'{"prompt": "2+2?", "response": "4"}', "application/json"))]
    upload = client.post(f"/api/v1/projects/{pid}/uploads", files=files).json()
    job = wait_for_job(client, upload["job_id"])
    assert job["status"] == "failed"
    assert "/nonexistent/model" in job["error"]
