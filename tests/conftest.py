"""Fixtures: a real database per backend (SQLite and Postgres), settings, the web client.

Every database test runs on both backends. The Postgres database is created once per
session (migrated with Alembic) and emptied after each test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app import db as app_db
from app import queue as app_queue
from app.config import get_settings
from app.migrate import upgrade
from tests.vllm_server import PACKAGED, VllmServer, running_vllm, vllm_python

PG_ADMIN_URL = os.environ.get(
    "FAMILIAR_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgres"]


def _clear_caches() -> None:
    get_settings.cache_clear()
    app_db.get_engine.cache_clear()
    app_db.get_sessionmaker.cache_clear()
    app_queue.producer.cache_clear()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh Postgres database for this test session, dropped at the end."""
    name = f"familiar_test_{uuid.uuid4().hex[:10]}"
    admin = app_db.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'familiar.db'}"


@pytest.fixture(scope="session")
def migrated() -> dict[str, bool]:
    return {}


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, migrated: dict[str, bool]) -> str:
    url = request.getfixturevalue("pg_url" if request.param == "postgres" else "sqlite_url")
    if url not in migrated:
        engine = app_db.make_engine(url)
        upgrade(engine)
        engine.dispose()
        migrated[url] = True
    return url


@pytest.fixture
def settings_env(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_cache: Path
) -> Iterator[str]:
    """Point the app at the test database and a fresh data folder; empty the tables after."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MODEL_CACHE", str(model_cache))
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("DEMO", "false")
    monkeypatch.setenv("ALLOWED_HOSTS", "testserver")  # TestClient's host name
    _clear_caches()
    yield db_url
    _empty_tables(app_db.get_engine())
    app_db.get_engine().dispose()
    _clear_caches()


def _empty_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(app_db.Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """Converted model weights shared by every test (and kept between runs)."""
    path = Path(__file__).resolve().parents[1] / ".familiar" / "test-models"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def session(settings_env: str) -> Iterator[Session]:
    s = app_db.get_sessionmaker()()
    yield s
    s.close()


@pytest.fixture
def client(settings_env: str):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from app.main import create_app

    with TestClient(create_app()) as c:
        yield c


# Accounts mode (AUTH=accounts): a user, a signed-in client and an anonymous one.

ACCOUNT_PASSWORD = "correct horse battery staple"


def page_csrf(html: str) -> str:
    """The CSRF token a page carries in its <meta name="csrf-token">."""
    import re

    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match, "page has no csrf-token meta tag"
    return match.group(1)


@pytest.fixture
def accounts_env(settings_env: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AUTH", "accounts")
    get_settings.cache_clear()
    return settings_env


@pytest.fixture
def account(accounts_env: str) -> dict[str, str]:
    """The user `alice` (admin), created through the service."""
    from app.security.accounts import create_user

    with app_db.session_scope() as s:
        create_user(s, username="alice", password=ACCOUNT_PASSWORD, is_admin=True)
    return {"username": "alice", "password": ACCOUNT_PASSWORD}


@pytest.fixture
def anon_client(accounts_env: str):  # type: ignore[no-untyped-def]
    """Accounts mode, nobody signed in."""
    from fastapi.testclient import TestClient

    from app.main import create_app

    with TestClient(create_app()) as c:
        yield c


@pytest.fixture
def accounts_client(account: dict[str, str]):  # type: ignore[no-untyped-def]
    """Accounts mode, signed in as alice; `client.csrf` holds the session's CSRF token."""
    from fastapi.testclient import TestClient

    from app.main import create_app

    with TestClient(create_app()) as c:
        token = page_csrf(c.get("/login").text)
        r = c.post("/login", data={**account, "csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303, r.text
        c.csrf = page_csrf(c.get("/").text)  # type: ignore[attr-defined]
        yield c


# One real vLLM server (float32, the packaged model) for the whole session: the server
# backend's tests and the strategy lab's share it (tests/vllm_server.py). It is started as a
# managed server of this process's pool (workers/inference_server/managed.py), so a `vllm`
# backend loaded with no INFERENCE_URL finds it there instead of starting a second.
@pytest.fixture(scope="session")
def vllm_server(
    model_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VllmServer]:
    from workers.inference_server.managed import get_pool, server_key
    from workers.modeling.sources import resolve_source

    folder = resolve_source(PACKAGED, model_cache).folder
    running = running_vllm()
    if running is not None:  # a developer's own float32 server: neither started nor stopped
        running.model_dir = folder
        yield running
        return
    with pytest.MonkeyPatch.context() as env:  # the pool's settings: logs in a temp folder
        env.setenv("VLLM_PYTHON", str(vllm_python()))
        env.setenv("DATA_DIR", str(tmp_path_factory.mktemp("vllm")))
        env.setenv("VLLM_MAX_MODEL_LEN", "2048")
        get_settings.cache_clear()
        pool = get_pool()
        key = server_key(str(folder), served_name=PACKAGED, dtype="float32")
    get_settings.cache_clear()
    try:
        with pool.acquire(key) as running_server:
            server = VllmServer(
                running_server.base_url.removesuffix("/v1"),
                PACKAGED,
                "float32",
                None,  # the pool owns the process
                running_server.log_path,
                running_server.started_s,
                folder,
            )
            print(f"\nvLLM float32 served {PACKAGED} after {server.start_s:.0f} s ({server.url})")
            yield server
    finally:
        pool.stop_all()
