"""Artifacts any host can reach (issue 20), with the packaged model: one "worker" trains a
validation run into a remote artifact root (``memory://``, which this process shares as
hosts share a bucket), its local cache is wiped, a second "worker" with a cache of its own
evaluates the adapter and answers in the playground, and the web process serves the
adapter zip from the store. Rows hold keys, never a worker's folder."""

from __future__ import annotations

import io
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
from sqlalchemy import select

from app.artifacts import artifact_store
from app.config import get_settings
from app.db import session_scope
from app.jobs import lifecycle
from app.models import Evaluation, Job, Question, ValidationRun
from tests.workers.test_validation_job import TINY_TRAIN, _project
from workers.tasks import execute

pytestmark = pytest.mark.slow


@pytest.fixture
def remote_root(settings_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    root = f"memory://familiar-hosts-{uuid.uuid4().hex[:8]}/artifacts"
    monkeypatch.setenv("ARTIFACT_ROOT", root)
    get_settings.cache_clear()
    yield root
    fsspec.filesystem("memory").rm(root.removeprefix("memory:/"), recursive=True)
    get_settings.cache_clear()


def _on_host(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    """Act as a worker whose local disk is ``cache``."""
    monkeypatch.setenv("ARTIFACT_CACHE_DIR", str(cache))
    get_settings.cache_clear()


def _run_job(job_id: int, owner: str) -> dict:
    with session_scope() as s:
        lease = lifecycle.claim(s, job_id=job_id, owner=owner)
        job = s.get(Job, job_id)
        kind, spec, project_id = job.kind, dict(job.spec), job.project_id  # type: ignore[union-attr]
    assert lease is not None
    execute(lease, kind, spec, project_id)
    with session_scope() as s:
        done = s.get(Job, job_id)
        assert done is not None and done.status == "succeeded", done.error if done else None
        return dict(done.result or {})


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_adapter_trained_on_one_host_is_evaluated_on_another(  # type: ignore[no-untyped-def]
    client, session, remote_root: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pid = _project(client)
    body = {"seeds": 1, "train_examples": 4, "val_examples": 2, "test_limit": 1}
    r = client.post(
        f"/api/v1/projects/{pid}/validations",
        json={**body, "max_new_tokens": 12, "train": TINY_TRAIN},
    )
    assert r.status_code == 201, r.text
    vid = r.json()["id"]
    run = session.scalars(
        select(ValidationRun).where(ValidationRun.validation_id == vid).order_by(ValidationRun.id)
    ).first()

    _on_host(monkeypatch, tmp_path / "host-a")
    trained = _run_job(run.job_id, "worker-a")
    key = f"validation-{vid}/run-{run.id}/checkpoint-{trained['best_step']}"
    session.expire_all()
    assert session.get(ValidationRun, run.id).adapter_dir == key  # a key, not a folder
    store = artifact_store()
    assert store.published_under(f"validation-{vid}/run-{run.id}")
    shutil.rmtree(tmp_path / "host-a")  # the training worker's disk is gone

    _on_host(monkeypatch, tmp_path / "host-b")
    evaluation = session.scalar(select(Evaluation).where(Evaluation.run_id == run.id))
    assert evaluation is not None and evaluation.job_id is not None
    evaluated = _run_job(evaluation.job_id, "worker-b")
    assert evaluated["n"] == 1 and evaluated["accuracy"] is not None
    copy = artifact_store().materialize(key)
    assert copy.is_relative_to(tmp_path / "host-b") and (copy / "adapter_config.json").is_file()

    # the playground on a third host: the same adapter, through the store
    _on_host(monkeypatch, tmp_path / "host-c")
    question = session.scalars(select(Question).where(Question.project_id == pid)).first()
    ask = {"question_id": question.id, "run_ids": [run.id], "max_new_tokens": 8, "base": False}
    job = client.post(f"/api/v1/projects/{pid}/playground", json=ask).json()
    answered = _run_job(job["id"], "worker-c")
    assert answered["answers"][0]["run_id"] == run.id and answered["answers"][0]["output"]

    # the web process serves the zip from the store, byte for byte
    z = client.get(f"/api/v1/projects/{pid}/validations/{vid}/runs/{run.id}/adapter.zip")
    assert z.status_code == 200, z.text
    with zipfile.ZipFile(io.BytesIO(z.content)) as zf:
        names = zf.namelist()
        assert "adapter_model.safetensors" in names and "adapter_config.json" in names
        for name in names:
            with store.open(f"{key}/{name}") as fh:
                assert zf.read(name) == fh.read(), name
