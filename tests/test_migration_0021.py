"""Migration 0021 (the strategy lab's tables): every existing project gets its built-in
teacher, the target itself, so that reading a project's lab never writes (a share-link
reader's GET must not); the downgrade drops the lab's tables and keeps the project."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from app import db as app_db
from app.migrate import alembic_config
from tests.test_migration_0005 import _migrate, fresh_url  # noqa: F401 - the fixture

AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_existing_projects_get_the_target_teacher(fresh_url: str) -> None:  # noqa: F811
    engine = app_db.make_engine(fresh_url)
    _migrate(engine, "0020")
    projects = sa.Table("projects", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        for name, model in (("a", "packaged:SmolLM2-135M-Instruct"), ("b", "/models/mine")):
            conn.execute(
                projects.insert().values(
                    name=name, description="", target_model=model, is_demo=False, created_at=AT
                )
            )
    _migrate(engine, "0021")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT p.name, t.name, t.kind, t.model, t.api_key_encrypted, t.created_at "
                "FROM lab_teachers t JOIN projects p ON p.id = t.project_id ORDER BY p.name"
            )
        ).all()
    assert [tuple(r[:5]) for r in rows] == [
        ("a", "target", "target", "packaged:SmolLM2-135M-Instruct", None),
        ("b", "target", "target", "/models/mine", None),
    ]
    assert all(r[5] is not None for r in rows)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0020")
    assert "lab_teachers" not in sa.inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM projects")).scalar_one() == 2
    engine.dispose()


def test_a_project_made_by_the_app_has_the_target_teacher(session) -> None:  # type: ignore[no-untyped-def]
    from app.lab.teachers import list_teachers
    from app.schemas.projects import ProjectCreate
    from app.services.projects import create_project

    project = create_project(session, data=ProjectCreate(name="lab"))
    session.commit()
    before = session.execute(sa.text("SELECT count(*) FROM lab_teachers")).scalar_one()
    listed = list_teachers(session, project_id=project.id).teachers
    assert [(t.name, t.kind) for t in listed] == [("target", "target")]
    assert not session.new and not session.dirty  # reading wrote nothing
    assert session.execute(sa.text("SELECT count(*) FROM lab_teachers")).scalar_one() == before
