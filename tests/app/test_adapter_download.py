"""The adapter zip comes from the artifact store (issue 20): by key, under the default local
root as before and under a remote root (``memory://``) streamed from it; a reference that
is no key inside the root (``..``, a folder elsewhere) or an unfinished upload is refused."""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path

import fsspec
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.artifacts import artifact_store
from app.config import get_settings
from app.models import ValidationRun
from tests.app.test_results import IFD, PPL, SPPL
from tests.app.test_validations import _validated

T, F = True, False
FILES = {
    "adapter_config.json": b'{"r": 8}',
    "adapter_model.safetensors": b"\x05" * 5000,
    "optimizer.pt": b"not served",
}


def _runs(client, session: Session) -> tuple[int, int, list[ValidationRun]]:  # type: ignore[no-untyped-def]
    right = {"alpha": [T, T, F, F], "beta": [T, F, F, F], "gamma": [F, F, F, F]}
    pid, _, v = _validated(client, session, right, values={"sppl": SPPL, "ppl": PPL, "ifd": IFD})
    runs = session.scalars(select(ValidationRun).order_by(ValidationRun.id)).all()
    return pid, v["id"], list(runs)


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, data in FILES.items():
        (path / name).write_bytes(data)
    return path


def _zip(client, pid: int, vid: int, run_id: int):  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/projects/{pid}/validations/{vid}/runs/{run_id}/adapter.zip")


def _served(response) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_the_local_root_serves_keys_and_refuses_the_rest(  # type: ignore[no-untyped-def]
    client, session: Session, tmp_path: Path
) -> None:
    pid, vid, runs = _runs(client, session)
    key = f"validation-{vid}/run-{runs[0].id}/checkpoint-4"
    _folder(get_settings().artifacts_path / key)
    outside = _folder(tmp_path / "elsewhere" / "checkpoint-4")
    runs[0].adapter_dir = key
    runs[1].adapter_dir = f"../../{outside.relative_to(tmp_path)}"
    runs[2].adapter_dir = str(outside)  # a row from before keys, outside the root
    session.commit()
    served = _served(_zip(client, pid, vid, runs[0].id))
    assert served == {n: d for n, d in FILES.items() if n != "optimizer.pt"}
    for run in runs[1:]:
        r = _zip(client, pid, vid, run.id)
        assert r.status_code == 404 and "no longer in the artifact store" in r.json()["detail"]
    # a row from before keys that names a folder inside the root is still served
    runs[2].adapter_dir = str((get_settings().artifacts_path / key).resolve())
    session.commit()
    assert _served(_zip(client, pid, vid, runs[2].id)) == served


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_remote_root_is_streamed_once_the_upload_finished(  # type: ignore[no-untyped-def]
    client, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = f"memory://familiar-zip-{uuid.uuid4().hex[:8]}/artifacts"
    monkeypatch.setenv("ARTIFACT_ROOT", root)
    get_settings.cache_clear()
    try:
        pid, vid, runs = _runs(client, session)
        store = artifact_store()
        key = f"validation-{vid}/run-{runs[0].id}/checkpoint-4"
        store.fs.put_file(  # a worker died while uploading: no manifest yet
            str(_folder(tmp_path / "trained") / "adapter_config.json"),
            f"{store.base}/{key}/adapter_config.json",
        )
        runs[0].adapter_dir = key
        session.commit()
        assert _zip(client, pid, vid, runs[0].id).status_code == 404
        store.publish(tmp_path / "trained", key)
        served = _served(_zip(client, pid, vid, runs[0].id))
        assert served == {n: d for n, d in FILES.items() if n != "optimizer.pt"}
    finally:
        fsspec.filesystem("memory").rm(root.removeprefix("memory:/"), recursive=True)
        get_settings.cache_clear()
