"""A worker killed mid-job: the job's page and JSON say "worker lost" within seconds."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.workers.test_scan_job import _project, _scan

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_killed_worker_shows_as_lost_at_once(client, celery_worker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("JOB_STALE_AFTER_S", "600")  # the lease itself would last 10 minutes
    pid = _project(client)
    job_id = _scan(client, pid, metrics=["ppl"], sample=40)["job"]["id"]
    deadline = time.monotonic() + 120
    while (job := client.get(f"/api/v1/jobs/{job_id}").json())["status"] != "running":
        assert time.monotonic() < deadline, f"the scan never started: {job}"
        time.sleep(0.1)
    assert not job["worker_lost"] and job["owner"].endswith(f":{celery_worker.pid}")
    os.kill(celery_worker.pid, signal.SIGKILL)
    killed = time.monotonic()
    celery_worker.wait()
    while not (job := client.get(f"/api/v1/jobs/{job_id}").json())["worker_lost"]:
        assert time.monotonic() - killed < 5, f"still not lost 5 s after the kill: {job}"
        time.sleep(0.2)
    assert job["status"] == "running"  # nobody took it over yet; the page says why
    assert job["heartbeat_age_s"] is not None and job["heartbeat_age_s"] < 60
    assert "is gone" in job["worker_lost_reason"]
    html = client.get(f"/jobs/{job_id}").text
    assert "worker lost" in html and "s ago" in html and "is gone" in html
