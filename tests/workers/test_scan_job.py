"""Full scans through a real Celery worker: results, reuse of the cache, resume after a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from app.config import get_settings
from app.db import session_scope
from app.models import ScanValue
from tests.paths import GSM8K_DIR
from tests.workers.conftest import wait_for_job, worker_log

pytestmark = pytest.mark.slow
FILES = ("train_filtered.json", "gpt4.json", "claude_simple_response.json")


def _project(client) -> int:  # type: ignore[no-untyped-def]
    pid = client.post("/api/v1/projects", json={"name": "scan"}).json()["id"]
    files = [("files", (n, (GSM8K_DIR / n).read_bytes(), "application/json")) for n in FILES]
    assert client.post(f"/api/v1/projects/{pid}/uploads", files=files).status_code == 201
    return pid


def _scan(client, pid: int, **settings) -> dict:  # type: ignore[no-untyped-def]
    client.cookies.clear()  # a script, not a browser session: no CSRF token needed
    r = client.post(f"/api/v1/projects/{pid}/scans", json=settings)
    assert r.status_code == 201, r.text
    return r.json()


SMALL = {
    "sample": 4,
    "pool": 6,
    "examples": 2,
    "max_new_tokens": 48,
    "allow_unfiltered_fallback": True,
}


def test_full_scan_then_cached_rescan(client, celery_worker) -> None:
    pid = _project(client)
    scan = _scan(client, pid, **SMALL)
    job = wait_for_job(client, scan["job"]["id"], timeout=400)
    assert job["status"] == "succeeded", (job["error"], worker_log(get_settings().data_dir))
    page = client.get(f"/api/v1/projects/{pid}/scans/{scan['id']}").json()
    assert page["scan"]["status"] == "succeeded"
    for metric in ("ppl", "sppl", "ifd"):
        rows = page["aggregates"][metric]
        assert sorted(r["rank"] for r in rows) == [1, 2, 3]
        assert all(r["n"] == 4 and r["mean"] > 0 for r in rows)
    assert page["report"]["primary"] == "sppl"
    with session_scope() as session:
        n_values = session.query(ScanValue).filter_by(scan_id=scan["id"]).count()
    assert n_values == 3 * 4 * 5  # strategies x questions x (ppl, sppl, ifd, logprob, length)
    html = client.get(f"/projects/{pid}/scans/{scan['id']}").text
    assert "SPPL" in html and "every 2s" not in html

    again = _scan(client, pid, **SMALL)
    job2 = wait_for_job(client, again["job"]["id"], timeout=200)
    assert job2["status"] == "succeeded", job2["error"]
    assert job2["result"]["counts"]["scored_items"] == 0  # every value came from the cache
    assert job2["result"]["counts"]["generated"] == 0  # own answers too
    page2 = client.get(f"/api/v1/projects/{pid}/scans/{again['id']}").json()
    assert page2["aggregates"] == page["aggregates"]


def test_scan_with_unloadable_model_fails_visibly(client, celery_worker, tmp_path) -> None:
    pid = _project(client)
    folder = tmp_path / "broken-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    scan = _scan(client, pid, **SMALL, model=str(folder))
    job = wait_for_job(client, scan["job"]["id"], timeout=120)
    assert job["status"] == "failed" and str(folder) in job["error"]
    page = client.get(f"/api/v1/projects/{pid}/scans/{scan['id']}").json()
    assert page["scan"]["status"] == "failed" and page["aggregates"] == {}
    with session_scope() as session:
        assert session.query(ScanValue).filter_by(scan_id=scan["id"]).count() == 0


def test_killed_worker_resumes(client, celery_worker, monkeypatch) -> None:
    from app.cli import _worker_cmd

    # A long stale period: the new worker must see at once that the old one's process is
    # gone (its lease names host:pid), without waiting for the heartbeat to age.
    monkeypatch.setenv("JOB_STALE_AFTER_S", "600")
    pid = _project(client)
    scan = _scan(client, pid, metrics=["ppl"], sample=40)
    job_id = scan["job"]["id"]
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["phase"].startswith("scoring") and 0 < job["done"] < job["total"]:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the scan never got part-way into scoring: {job}")
    os.kill(celery_worker.pid, signal.SIGKILL)
    celery_worker.wait()
    second = subprocess.Popen(
        _worker_cmd("cpu,gpu,network", 1),
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        job = wait_for_job(client, job_id, timeout=400)
    finally:
        second.kill()
        second.wait(timeout=30)
    assert job["status"] == "succeeded", job["error"]
    assert job["attempts"] == 2
    assert job["result"]["counts"]["cached_items"] > 0  # resumed, not started over
