"""Migration 0020 (issue 20): a run's adapter folder, as the worker before artifact keys
stored it, becomes a key when it lies inside the artifacts folder (absolute, or relative to
the working directory as the default DATA_DIR made it); a folder elsewhere is kept, absolute,
and stays readable where it is while the download refuses it; the downgrade gives folders
back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from app import db as app_db
from app.artifacts import artifact_store
from app.config import get_settings
from app.migrate import alembic_config
from tests.test_migration_0005 import _migrate, fresh_url  # noqa: F401 - the fixture

AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _old_runs(engine: sa.Engine, folders: list[str | None]) -> None:
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    with engine.begin() as c:
        project = dict(name="p", description="", target_model="m", is_demo=False, created_at=AT)
        pid = c.execute(t["projects"].insert().values(**project)).inserted_primary_key[0]
        strategy = dict(
            project_id=pid,
            name="a",
            source_filename="a.jsonl",
            file_format="jsonl",
            layout="qa",
            origin="upload",
            created_at=AT,
        )
        sid = c.execute(t["strategies"].insert().values(**strategy)).inserted_primary_key[0]
        validation = dict(
            project_id=pid,
            label="",
            spec={},
            model_name="m",
            extractor="last_number",
            n_shared=0,
            n_excluded_test_overlap=0,
            status="done",
            created_at=AT,
        )
        vid = c.execute(t["validations"].insert().values(**validation)).inserted_primary_key[0]
        for seed, folder in enumerate(folders):
            run = dict(
                validation_id=vid,
                strategy_id=sid,
                seed=seed,
                status="trained",
                rung=0,
                steps=4,
                adapter_dir=folder,
            )
            c.execute(t["validation_runs"].insert().values(**run))


def _folders(engine: sa.Engine) -> list[str | None]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT adapter_dir FROM validation_runs ORDER BY seed"))
        return [r[0] for r in rows]


@pytest.fixture
def _relative_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", "data")  # relative, as the default
    monkeypatch.delenv("ARTIFACTS_DIR", raising=False)
    monkeypatch.delenv("ARTIFACT_ROOT", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_folders_inside_the_artifacts_folder_become_keys(  # type: ignore[no-untyped-def]
    fresh_url: str,  # noqa: F811
    tmp_path: Path,
    _relative_data_dir: None,
) -> None:
    inside = tmp_path / "data" / "artifacts" / "validation-1" / "run-1" / "checkpoint-4"
    inside.mkdir(parents=True)
    (inside / "adapter_config.json").write_text("{}")
    elsewhere = tmp_path / "old-disk" / "run-3" / "checkpoint-2"
    elsewhere.mkdir(parents=True)
    before = [
        str(inside),  # absolute, as with DATA_DIR=/data
        "data/artifacts/validation-1/run-2/checkpoint-8",  # relative, as with DATA_DIR=data
        str(elsewhere),  # outside the artifacts folder
        None,  # not trained
    ]
    engine = app_db.make_engine(fresh_url)
    _migrate(engine, "0019")
    _old_runs(engine, before)
    _migrate(engine, "0020")
    after = _folders(engine)
    assert after == [
        "validation-1/run-1/checkpoint-4",
        "validation-1/run-2/checkpoint-8",
        str(elsewhere),
        None,
    ]
    store = artifact_store()
    assert store.locate(after[0]) == inside.resolve()  # the same folder, through its key
    assert store.locate(after[2]) == elsewhere  # kept readable where it is
    assert store.key_for(after[2]) is None  # and never served as a download

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0019")
    root = tmp_path.resolve() / "data" / "artifacts"
    assert _folders(engine) == [
        str(inside.resolve()),
        str(root / "validation-1" / "run-2" / "checkpoint-8"),
        str(elsewhere),
        None,
    ]
    engine.dispose()
