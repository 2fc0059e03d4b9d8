"""Listing pages run a constant number of queries, however many rows they list."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from app import db as app_db
from app.jobs.lifecycle import create_job
from app.models import Scan


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = app_db.get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    with counted() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_projects_listing_does_not_grow_with_projects(client) -> None:  # type: ignore[no-untyped-def]
    for i in range(2):
        client.post("/api/v1/projects", json={"name": f"p{i}"})
    few = (_queries(client, "/api/v1/projects"), _queries(client, "/"))
    for i in range(2, 12):
        client.post("/api/v1/projects", json={"name": f"p{i}"})
    assert (_queries(client, "/api/v1/projects"), _queries(client, "/")) == few


def test_scans_listing_does_not_grow_with_scans(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = client.post("/api/v1/projects", json={"name": "scans"}).json()["id"]

    def add_scans(n: int) -> None:
        for _ in range(n):
            scan = Scan(project_id=pid, model_name="m", spec={"metrics": ["ppl"]})
            session.add(scan)
            session.flush()
            scan.job_id = create_job(
                session, kind="scan", project_id=pid, spec={"scan_id": scan.id}
            ).id
        session.commit()

    add_scans(2)
    few = _queries(client, f"/api/v1/projects/{pid}/scans")
    add_scans(10)
    assert _queries(client, f"/api/v1/projects/{pid}/scans") == few
