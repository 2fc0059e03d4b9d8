"""The artifact store on S3 (issue 20): a local S3-compatible server (moto's, from PyPI)
stands in for MinIO or AWS; the settings name its endpoint and credentials. Skipped where
the optional ``s3`` extra (s3fs) or moto is not installed."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.artifacts import ArtifactMissing, ArtifactStore, artifact_store
from app.artifacts.zipping import zip_stream
from app.config import Settings

pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

FILES = {"adapter_config.json": b'{"r": 8}', "adapter_model.safetensors": b"\x07" * 70_000}
KEYS = {"key": "testing", "secret": "testing"}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _store(endpoint: str, cache: Path) -> ArtifactStore:
    settings = Settings(
        artifact_root="s3://familiar-test/team/artifacts",
        artifact_s3_endpoint_url=endpoint,
        artifact_storage_options=KEYS,
        artifact_cache_dir=cache,
    )
    return artifact_store(settings)


def test_an_s3_root_publishes_whole_and_serves_other_hosts(endpoint: str, tmp_path: Path) -> None:
    a = _store(endpoint, tmp_path / "a")
    a.fs.mkdir("familiar-test")
    key = "validation-1/run-1/checkpoint-2"
    local = a.work_dir(key)
    local.mkdir(parents=True)
    for name, data in FILES.items():
        (local / name).write_bytes(data)
    a.fs.put_file(str(local / "adapter_config.json"), f"{a.base}/{key}/adapter_config.json")
    assert not a.is_published(key)  # a file without the manifest: an unfinished upload
    with pytest.raises(ArtifactMissing, match="did not finish"):
        a.materialize(key)
    a.publish(local, key)
    assert a.url(key) == f"s3://familiar-test/team/artifacts/{key}"
    assert a.materialize(key) == local  # the host that wrote it keeps its copy

    b = _store(endpoint, tmp_path / "b")  # another host: its own disk
    assert b.published_under("validation-1/run-1") == ["checkpoint-2"]
    copy = b.materialize(key)
    assert copy.is_relative_to(tmp_path / "b")
    assert {n: (copy / n).read_bytes() for n in FILES} == FILES
    body = b"".join(zip_stream(b, key, sorted(b.manifest(key).items())))
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        assert {n: zf.read(n) for n in zf.namelist()} == FILES
