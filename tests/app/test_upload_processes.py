"""Uploads to one project from several web processes at the same moment (issue 11).

Each upload runs in its own process (its own engine and connection pool, as with several
uvicorn workers), calls the real upload endpoint and starts at a shared barrier, so that
every process reads the project's questions before any other one commits.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
from typing import Any

import pytest

N_QUESTIONS = 500


def _body(strategy: str) -> bytes:
    rows = [
        {
            "question": f"Question {i}: what is {i} times {i}?",
            "answer": f"{strategy} {i}",
            "gold_label": str(i * i),
        }
        for i in range(N_QUESTIONS)
    ]
    return json.dumps(rows).encode()


def _upload_in_process(
    env: dict[str, str],
    pid: int,
    name: str,
    filename: str,
    replace: bool,
    barrier: Any,
    out: Any,
) -> None:
    """A fresh process: its own settings and engine; waits at the barrier, then uploads."""
    os.environ.update(env)
    from fastapi.testclient import TestClient

    from app.main import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as client:
        client.get("/healthz")  # warm: the first request should not be the slow one
        files = [("files", (filename, _body(filename), "application/json"))]
        data = {"strategy": name, "replace": "true" if replace else "false"}
        barrier.wait(timeout=60)
        r = client.post(f"/api/v1/projects/{pid}/uploads", files=files, data=data)
        out.put((filename, r.status_code, r.text[:300]))


def _run_concurrently(env: dict[str, str], pid: int, uploads: list[tuple[str, str, bool]]):
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(len(uploads)), ctx.Queue()
    procs = [
        ctx.Process(target=_upload_in_process, args=(env, pid, n, f, rep, barrier, out))
        for n, f, rep in uploads
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return sorted(results)


def _env(db_url: str) -> dict[str, str]:
    keys = ("DATABASE_URL", "DATA_DIR", "MODEL_CACHE", "DEMO")
    env = {k: os.environ[k] for k in keys}
    env["AUTH"] = "single"
    assert env["DATABASE_URL"] == db_url
    return env


@pytest.mark.slow
def test_five_concurrent_uploads_share_their_questions(client, settings_env: str) -> None:
    pid = client.post("/api/v1/projects", json={"name": "race"}).json()["id"]
    names = [f"s{k}" for k in range(5)]
    results = _run_concurrently(_env(settings_env), pid, [(n, f"{n}.json", False) for n in names])
    assert [code for _, code, _ in results] == [201] * 5, results
    page = client.get(f"/api/v1/projects/{pid}").json()
    print(f"questions={page['n_questions']} shared={page['n_shared']}")
    assert (page["n_questions"], page["n_shared"]) == (N_QUESTIONS, N_QUESTIONS)
    assert sorted(s["name"] for s in page["strategies"]) == names
    assert {s["n_responses"] for s in page["strategies"]} == {N_QUESTIONS}


@pytest.mark.slow
@pytest.mark.parametrize("replace", [False, True], ids=["plain", "replace"])
def test_same_strategy_name_from_two_processes(client, settings_env: str, replace: bool) -> None:
    pid = client.post("/api/v1/projects", json={"name": "race"}).json()["id"]
    uploads = [("same", "a.json", replace), ("same", "b.json", replace)]
    results = _run_concurrently(_env(settings_env), pid, uploads)
    codes = sorted(code for _, code, _ in results)
    if replace:
        assert codes == [201, 201], results  # the later one replaced the earlier
    else:
        assert codes == [201, 409], results
        assert "already exists" in next(t for _, c, t in results if c == 409)
    page = client.get(f"/api/v1/projects/{pid}").json()
    assert [(s["name"], s["n_responses"]) for s in page["strategies"]] == [("same", N_QUESTIONS)]
    assert page["n_questions"] == N_QUESTIONS
