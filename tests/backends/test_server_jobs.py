"""Jobs through the vllm backend and a real vLLM server (tests/backends/conftest.py).

A dashboard scan whose spec names ``backend: vllm`` runs through the server and records it;
a server that goes away mid-scan (its connections cut, through a proxy that a test can
close) fails the job visibly, naming the server, and the retried scan resumes from what
the score cache kept.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.config import get_settings
from app.models import Job, Scan, ScoreCache
from tests.app.multisubject import write_multisubject
from tests.app.test_categories import upload_files
from tests.jobs.contexts import claimed_context
from tests.tcp_proxy import TcpProxy
from workers.jobs.context import JobFailure
from workers.jobs.scan import run_scan_job
from workers.jobs.score_cache import DbScoreCache

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

SETTINGS: dict[str, Any] = {
    "metrics": ["ppl", "sppl", "ifd"],
    "sample": 4,
    "samples": 1,
    "examples": 1,
    "pool": 4,
    "max_new_tokens": 8,
    "seed": 1,
    "allow_unfiltered_fallback": True,
    "backend": "vllm",
}


def _scan(client, pid: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    r = client.post(f"/api/v1/projects/{pid}/scans", json=SETTINGS)
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["job"]["id"]


def test_a_scan_job_runs_through_the_server_and_records_it(  # type: ignore[no-untyped-def]
    server_env, client, session, tmp_path
) -> None:
    pid, _ = upload_files(client, write_multisubject(tmp_path, n=8))
    scan_id, job_id = _scan(client, pid)
    summary = run_scan_job(claimed_context(job_id))
    assert summary["counts"]["scored_items"] > 0
    session.expire_all()
    scan = session.get(Scan, scan_id)
    assert scan.model_key.endswith("|vllm:float32")  # the server backend's key


class _CutAfterFirstWrite(DbScoreCache):
    """The real score cache; the proxy to the server closes after its first write."""

    proxy: TcpProxy

    def put_many(self, values: Any) -> None:
        super().put_many(values)
        self.proxy.close()


def test_a_server_dying_mid_scan_fails_the_job_and_the_retry_resumes(  # type: ignore[no-untyped-def]
    server_env, client, session, tmp_path, monkeypatch
) -> None:
    proxy = TcpProxy(("127.0.0.1", int(server_env.url.rsplit(":", 1)[1])))
    proxy.open()
    monkeypatch.setenv("INFERENCE_URL", f"http://127.0.0.1:{proxy.port}")
    get_settings.cache_clear()
    _CutAfterFirstWrite.proxy = proxy
    monkeypatch.setattr("workers.jobs.scan.DbScoreCache", _CutAfterFirstWrite)
    pid, _ = upload_files(client, write_multisubject(tmp_path, n=8))
    scan_id, job_id = _scan(client, pid)
    with pytest.raises(JobFailure, match=f"inference server http://127.0.0.1:{proxy.port}"):
        run_scan_job(claimed_context(job_id))
    kept = session.scalar(select(func.count()).select_from(ScoreCache))
    assert kept and kept > 0
    monkeypatch.setattr("workers.jobs.scan.DbScoreCache", DbScoreCache)
    proxy.open()  # the server is back
    try:
        _, retry = _scan(client, pid)
        summary = run_scan_job(claimed_context(retry))
    finally:
        proxy.close()
    assert summary["counts"]["cached_items"] >= kept
    session.expire_all()
    assert session.get(Job, retry) is not None


def test_a_job_leaves_no_connection_to_the_server_open(  # type: ignore[no-untyped-def]
    server_env, client, session, tmp_path
) -> None:
    """The job runner closes every backend its job loaded: the server backend's pooled
    keep-alive connections end with the job (they stayed open, one pool per job)."""
    from urllib.parse import urlparse

    import psutil

    from workers.tasks import run_job

    pid, _ = upload_files(client, write_multisubject(tmp_path, n=8))
    _, job_id = _scan(client, pid)
    run_job(job_id)
    session.expire_all()
    job = session.get(Job, job_id)
    assert job is not None and job.status == "succeeded", job.error if job else None
    port = urlparse(server_env.url).port
    open_ = [
        c
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    ]
    assert open_ == []
