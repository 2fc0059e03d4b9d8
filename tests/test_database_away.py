"""A database that goes away: 503 with a readable reason, recovery without a restart, and a
`familiar serve` that starts without it says so in one line and serves once it answers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app.db import make_engine
from app.migrate import upgrade
from tests.conftest import PG_ADMIN_URL, _clear_caches
from tests.paths import ROOT
from tests.tcp_proxy import TcpProxy


@pytest.fixture
def fresh_pg() -> Iterator[str]:
    """A new, empty Postgres database's name (dropped after the test)."""
    name = f"familiar_away_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    p = TcpProxy(("127.0.0.1", 5432))
    yield p
    p.close()


def _url(port: int, name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{name}"


def _app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DEMO", "false")
    monkeypatch.setenv("ALLOWED_HOSTS", "testserver")  # TestClient's host name
    monkeypatch.delenv("REDIS_URL", raising=False)
    _clear_caches()


def _assert_unavailable(client: TestClient, port: int) -> None:
    api = client.get("/api/v1/projects")
    assert api.status_code == 503 and api.headers["retry-after"]
    assert f"127.0.0.1:{port}" in api.json()["detail"] and "unavailable" in api.json()["detail"]
    page = client.get("/")
    assert page.status_code == 503 and "<html" in page.text and 'href="/static/' in page.text
    assert "Unavailable for a moment" in page.text and "unavailable:" in page.text
    health = client.get("/healthz")
    assert health.status_code == 503 and "\n" not in health.text.strip()


def test_a_closed_port_answers_503(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    closed = TcpProxy(("127.0.0.1", 5432))  # a free port nobody listens on
    _app_env(monkeypatch, tmp_path, _url(closed.port, "familiar"))
    from app.main import create_app

    with TestClient(create_app()) as client:
        _assert_unavailable(client, closed.port)
    _clear_caches()


def test_the_web_app_recovers_when_the_database_returns(  # type: ignore[no-untyped-def]
    monkeypatch, tmp_path, fresh_pg, proxy, capsys
) -> None:
    engine = make_engine(_url(5432, fresh_pg))
    upgrade(engine)
    engine.dispose()
    proxy.open()
    _app_env(monkeypatch, tmp_path, _url(proxy.port, fresh_pg))
    from app.main import create_app

    with TestClient(create_app()) as client:
        assert client.post("/api/v1/projects", json={"name": "p"}).status_code == 201
        assert client.get("/healthz").text == "ok"
        capsys.readouterr()  # from here on: what this outage writes
        proxy.close()  # the database goes away: pooled connections are cut too
        for _ in range(3):  # nine requests answered 503, the health check among them
            _assert_unavailable(client, proxy.port)
        said = capsys.readouterr().err.splitlines()
        where = f"the database at 127.0.0.1:{proxy.port}/{fresh_pg} is unavailable: "
        assert len(said) == 1 and said[0].startswith(f"error: {where}"), said
        assert said[0].endswith("; answering 503 until it does")
        proxy.open()
        r = client.get("/api/v1/projects")
        assert r.status_code == 200 and [p["name"] for p in r.json()["projects"]] == ["p"]
        assert client.get("/").status_code == 200 and client.get("/healthz").text == "ok"
        back = f"database at 127.0.0.1:{proxy.port}/{fresh_pg} answers again; serving"
        assert capsys.readouterr().err.splitlines() == [back]
        proxy.close()  # a second outage is said again, once
        _assert_unavailable(client, proxy.port)
        _assert_unavailable(client, proxy.port)
        assert len(capsys.readouterr().err.splitlines()) == 1
        proxy.open()
        assert client.get("/healthz").text == "ok"
    from app.db import get_engine

    get_engine().dispose()
    _clear_caches()


def _get(port: int, path: str) -> httpx.Response | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)
    except httpx.HTTPError:
        return None


def _wait(port: int, path: str, status: int, timeout: float) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = _get(port, path)
        if r is not None and r.status_code == status:
            return r
        time.sleep(0.3)
    raise AssertionError(f"{path} never answered {status}: {r and r.status_code}")


@pytest.mark.slow
def test_serve_starts_without_its_database_and_serves_once_it_answers(  # type: ignore[no-untyped-def]
    tmp_path, fresh_pg, proxy
) -> None:
    from tests.test_serve import _free_port

    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _url(proxy.port, fresh_pg),
        "PORT": str(port),
        "DATA_DIR": str(tmp_path / "data"),
        "DEMO": "false",
        "PYTHONPATH": str(ROOT),
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "QUEUE_PREFIX": f"away-{fresh_pg}",
    }
    familiar = str(Path(sys.executable).parent / "familiar")
    log = tmp_path / "serve.err"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [familiar, "serve", "--no-workers"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        health = _wait(port, "/healthz", 503, 90)
        assert "unavailable" in health.text
        api = _get(port, "/api/v1/projects")
        assert api is not None and api.status_code == 503 and "detail" in api.json()
        proxy.open()  # the database answers now: migrations run, then the app serves
        assert _wait(port, "/healthz", 200, 30).text == "ok"
        assert _get(port, "/api/v1/projects").json() == {"projects": []}  # type: ignore[union-attr]
        proxy.close()  # away again after start: said once more, however many requests fail
        for path in ("/api/v1/projects", "/healthz", "/", "/api/v1/projects"):
            assert _get(port, path).status_code == 503  # type: ignore[union-attr]
        proxy.open()
        assert _wait(port, "/healthz", 200, 30).text == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    lines = [ln for ln in log.read_text().splitlines() if not ln.startswith("INFO:")]
    assert "Traceback" not in log.read_text()
    where = f"127.0.0.1:{proxy.port}/{fresh_pg}"
    assert len(lines) == 4, lines
    for line in lines[0], lines[2]:
        assert line.startswith(f"error: the database at {where} is unavailable: ")
        assert line.endswith("answering 503 until it does")
    assert lines[1] == f"database at {where} answers; serving"
    assert lines[3] == f"database at {where} answers again; serving"


def test_a_command_without_its_database_says_so_in_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    closed = TcpProxy(("127.0.0.1", 5432))
    env = {
        **os.environ,
        "DATABASE_URL": _url(closed.port, "x"),
        "PYTHONPATH": str(ROOT),
        "DATA_DIR": str(tmp_path / "data"),
    }
    r = subprocess.run(
        [sys.executable, "-c", "from app.cli import main; main()", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith(f"error: the database at 127.0.0.1:{closed.port}/x is unavailable")


def _migrate_at(url: str, barrier, errors) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    barrier.wait()
    try:
        upgrade(engine)
    except Exception as exc:  # noqa: BLE001 - reported to the test
        errors.put(f"{type(exc).__name__}: {exc}"[:300])
    engine.dispose()


def test_processes_starting_together_migrate_a_fresh_database_once(fresh_pg) -> None:  # type: ignore[no-untyped-def]
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    barrier, errors = ctx.Barrier(3), ctx.Queue()
    procs = [
        ctx.Process(target=_migrate_at, args=(_url(5432, fresh_pg), barrier, errors))
        for _ in range(3)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    found = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
    assert found == [] and all(p.exitcode == 0 for p in procs), found
    engine = make_engine(_url(5432, fresh_pg))
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 1
    engine.dispose()
