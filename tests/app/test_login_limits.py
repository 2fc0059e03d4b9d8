"""Sign-in limits: failures per account and per address (in the database), bounded hashing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.config import get_settings
from app.main import create_app
from app.models import LoginFailure
from app.security import throttle
from tests.conftest import ACCOUNT_PASSWORD, page_csrf


def _try(c: TestClient, username: str, password: str):  # type: ignore[no-untyped-def]
    if not hasattr(c, "csrf"):
        c.csrf = page_csrf(c.get("/login").text)  # type: ignore[attr-defined]
    data = {"username": username, "password": password, "csrf_token": c.csrf}  # type: ignore[attr-defined]
    return c.post("/login", data=data, follow_redirects=False)


def test_wrong_passwords_lock_the_account_for_a_while(
    anon_client, account, session: Session
) -> None:  # type: ignore[no-untyped-def]
    limit = get_settings().login_max_failures
    for _ in range(limit):
        assert _try(anon_client, "alice", "wrong password").status_code == 401
    r = _try(anon_client, "alice", ACCOUNT_PASSWORD)  # the right one, too late
    assert r.status_code == 429, r.text
    assert "Too many failed sign-ins for this account" in r.text
    assert 0 < int(r.headers["retry-after"]) <= get_settings().login_window_s
    # Counted in the database: another web process (another app) refuses as well.
    with TestClient(create_app()) as other:
        assert _try(other, "alice", ACCOUNT_PASSWORD).status_code == 429
    # Once the window has passed, the right password works and clears the account's count.
    session.execute(update(LoginFailure).values(at=datetime.now(UTC) - timedelta(hours=1)))
    session.commit()
    assert _try(anon_client, "alice", ACCOUNT_PASSWORD).status_code == 303
    keys = session.scalars(select(LoginFailure.key)).all()
    assert "user:alice" not in keys and "ip:testclient" in keys


def test_a_locked_account_spends_no_hashing(anon_client, account, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "2")
    get_settings.cache_clear()
    for _ in range(2):
        _try(anon_client, "alice", "wrong password")
    calls = []
    monkeypatch.setattr("app.security.accounts.verify_password", lambda *a: calls.append(a))
    assert _try(anon_client, "alice", "wrong password").status_code == 429
    assert calls == []


def test_failures_per_address_across_accounts(anon_client, account, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LOGIN_MAX_FAILURES_PER_IP", "3")
    get_settings.cache_clear()
    for name in ("u1", "u2", "u3"):
        assert _try(anon_client, name, "wrong password").status_code == 401
    r = _try(anon_client, "alice", ACCOUNT_PASSWORD)
    assert r.status_code == 429 and "from your address" in r.text


PARALLEL = 30


def test_parallel_wrong_passwords_check_at_most_the_limit(  # type: ignore[no-untyped-def]
    anon_client, account, session: Session, monkeypatch
) -> None:
    """30 wrong passwords at once, over two apps (two web processes' worth of code on one
    database), each request on its own thread and connection: the attempt is counted before
    the password is checked, so at most LOGIN_MAX_FAILURES passwords are checked (before:
    16 on Postgres) and every other attempt is refused with 429 without hashing."""
    monkeypatch.setenv("PASSWORD_HASH_SLOTS", str(PARALLEL))  # no 503: every check may run
    get_settings.cache_clear()
    monkeypatch.setattr(throttle, "_slots", None)
    limit = get_settings().login_max_failures
    start = threading.Barrier(PARALLEL)
    with ExitStack() as stack:
        apps = [create_app(), create_app()]
        clients = [stack.enter_context(TestClient(apps[i % 2])) for i in range(PARALLEL)]
        for c in clients:
            c.csrf = page_csrf(c.get("/login").text)  # type: ignore[attr-defined]

        def attempt(c: TestClient) -> int:
            start.wait()
            return _try(c, "alice", "wrong password").status_code

        with ThreadPoolExecutor(PARALLEL) as pool:
            codes = list(pool.map(attempt, clients))
    checked = codes.count(401)  # a wrong password that was checked
    stored = session.scalar(
        select(func.count(LoginFailure.id)).where(LoginFailure.key == "user:alice")
    )
    print(f"{PARALLEL} parallel: {checked} passwords checked, {stored} failures stored")
    assert checked <= limit and stored == checked, (checked, stored)
    assert codes.count(429) == PARALLEL - checked, codes
    assert _try(anon_client, "alice", ACCOUNT_PASSWORD).status_code == 429


@pytest.fixture
def one_slot(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PASSWORD_HASH_SLOTS", "1")
    get_settings.cache_clear()
    monkeypatch.setattr(throttle, "_slots", None)
    yield
    throttle._slots = None


def test_hashing_is_bounded_and_the_excess_is_refused_quickly(
    anon_client, account, one_slot
) -> None:  # type: ignore[no-untyped-def]
    waits: list[float | None] = []
    real_semaphore = throttle._semaphore

    def recording_semaphore():  # type: ignore[no-untyped-def]
        sem = real_semaphore()
        acquire = sem.acquire

        def timed_acquire(blocking: bool = True, timeout: float | None = None) -> bool:
            waits.append(timeout)
            return acquire(blocking, timeout)

        sem.acquire = timed_acquire  # type: ignore[method-assign]
        return sem

    with throttle.hashing_slot():  # another sign-in holds the only slot
        anon_client.csrf = page_csrf(anon_client.get("/login").text)
        throttle._semaphore = recording_semaphore  # type: ignore[assignment]
        try:
            r = _try(anon_client, "alice", ACCOUNT_PASSWORD)
        finally:
            throttle._semaphore = real_semaphore  # type: ignore[assignment]
    # The slot stayed taken for the whole request, so a 503 means the sign-in gave up after
    # its bounded wait (one that waited for the holder would hang the test). No wall clock:
    # a loaded CI machine made a 2.5 s bound fail at 3.4 s.
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert "busy" in r.text and waits == [throttle.HASH_WAIT_S]
    assert _try(anon_client, "alice", ACCOUNT_PASSWORD).status_code == 303  # slot free again


def test_argon2_parameters_are_sane() -> None:
    from argon2 import extract_parameters

    from app.security.passwords import hash_password

    params = extract_parameters(hash_password("some password"))
    assert params.type.name == "ID" and 19 * 1024 <= params.memory_cost <= 128 * 1024


def test_a_busy_password_change_is_503_not_500(accounts_client, one_slot) -> None:  # type: ignore[no-untyped-def]
    change = {"current_password": ACCOUNT_PASSWORD, "new_password": "a new password"}
    h = {"X-CSRF-Token": accounts_client.csrf}
    with throttle.hashing_slot():
        r = accounts_client.post("/api/v1/me/password", json=change, headers=h)
    assert r.status_code == 503 and r.headers["retry-after"] == "1" and "busy" in r.text
