"""The artifact store (issue 20): keys, a local root (nothing copied), a remote root
(``memory://``: uploads finished only when whole, downloads cached), refused keys and roots,
and the streamed zip."""

from __future__ import annotations

import io
import json
import random
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

from app.artifacts import ArtifactError, ArtifactMissing, ArtifactStore, check_key
from app.artifacts.store import PUBLISHED
from app.artifacts.zipping import zip_stream

ADAPTER = {"adapter_config.json": b'{"r": 8}', "adapter_model.safetensors": b"\x00" * 3000}


def _folder(path: Path, files: dict[str, bytes] = ADAPTER) -> Path:
    for name, data in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(data)
    return path


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[ArtifactStore]:
    """A store on an in-memory filesystem (another host's bucket, for this process)."""
    root = f"memory://familiar-test-{uuid.uuid4().hex[:8]}/artifacts"
    yield ArtifactStore(root, cache_dir=tmp_path / "cache")
    fs, path = fsspec.filesystem("memory"), root.removeprefix("memory:/")
    if fs.exists(path):
        fs.rm(path, recursive=True)


@pytest.mark.parametrize(
    "bad",
    ["", "/abs/run", "../run-1", "validation-1/../../etc", "a//b", "a/./b", "s3://b/k", ".x/y"]
    + ["validation-1/run-2\n"],  # a trailing newline passed a '$'-anchored match
)
def test_bad_keys_are_refused_with_the_reason(bad: str) -> None:
    with pytest.raises(ArtifactError, match="artifact key"):
        check_key(bad)
    for ok in ("validation-3/run-7/checkpoint-8", "a/b.json"):
        assert check_key(ok) == ok


def test_a_local_root_works_in_place(tmp_path: Path) -> None:
    store = ArtifactStore(str(tmp_path / "root"), cache_dir=tmp_path / "cache")
    key = "validation-1/run-2/checkpoint-4"
    work = store.work_dir(key)
    assert work == (tmp_path / "root" / key).resolve()  # the key's own folder, as before keys
    _folder(work)
    store.publish(work, key)  # already there: nothing copied, no marker written
    assert store.materialize(key) == work and not (work / PUBLISHED).exists()
    assert not (tmp_path / "cache").exists()
    assert store.key_for(str(work)) == key  # a row written before keys, inside the root
    assert store.key_for(str(tmp_path / "elsewhere")) is None
    assert store.published_under("validation-1/run-2") == ["checkpoint-4"]
    assert store.url(key) == f"file://{work}"
    with pytest.raises(ArtifactMissing, match="checkpoint-9"):
        store.materialize("validation-1/run-2/checkpoint-9")


def test_a_local_root_takes_a_folder_from_elsewhere_whole(tmp_path: Path) -> None:
    store = ArtifactStore(f"file://{tmp_path / 'root'}", cache_dir=tmp_path / "cache")
    outside = _folder(tmp_path / "trained", {**ADAPTER, ".hidden": b"x"})
    store.publish(outside, "v/adapter")
    got = store.materialize("v/adapter")
    assert sorted(p.name for p in got.iterdir()) == sorted(ADAPTER)  # hidden files stay out
    assert list((tmp_path / "root" / ".staging").iterdir()) == []  # renamed from staging
    legacy = store.locate(str(outside))  # an absolute folder outside the root: read in place
    assert legacy == outside


def test_a_remote_folder_is_finished_only_when_whole(remote: ArtifactStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = "validation-1/run-2/checkpoint-4"
    local = _folder(tmp_path / "trained")
    put = remote.fs.put_file
    calls: list[str] = []

    def dies_after_one(src: str, dst: str, **kw) -> None:  # type: ignore[no-untyped-def]
        if calls:
            raise OSError("connection reset")
        calls.append(dst)
        put(src, dst, **kw)

    remote.fs.put_file = dies_after_one  # type: ignore[method-assign]
    with pytest.raises(OSError, match="connection reset"):
        remote.publish(local, key)
    remote.fs.put_file = put  # type: ignore[method-assign]
    assert remote.fs.exists(calls[0])  # one file is there, but not finished:
    assert not remote.is_published(key) and remote.published_under("validation-1/run-2") == []
    with pytest.raises(ArtifactMissing, match="did not finish"):
        remote.materialize(key)
    remote.publish(local, key)  # the next publish replaces what was left
    assert remote.is_published(key)
    assert remote.published_under("validation-1/run-2") == ["checkpoint-4"]
    assert remote.manifest(key) == {n: len(d) for n, d in ADAPTER.items()}


def test_a_remote_folder_is_downloaded_once_into_the_cache(remote: ArtifactStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = "v/adapter"
    remote.publish(_folder(tmp_path / "trained"), key)
    got = remote.materialize(key)
    assert got.is_relative_to(tmp_path / "cache")
    assert {p.name: p.read_bytes() for p in got.iterdir() if p.name != PUBLISHED} == ADAPTER
    remote.fs.pipe_file(f"{remote.base}/{key}/adapter_model.safetensors", b"\x01" * 3000)
    assert remote.materialize(key).joinpath("adapter_model.safetensors").read_bytes()[0] == 0
    # the same sizes: the copy is kept (published folders never change); a new manifest
    # (another folder under the same key after a wipe) is downloaded again
    remote.fs.rm(f"{remote.base}/{key}", recursive=True)
    remote.publish(_folder(tmp_path / "other", {"adapter_config.json": b"{}"}), key)
    assert sorted(p.name for p in remote.materialize(key).iterdir()) == sorted(
        ["adapter_config.json", PUBLISHED]
    )


def test_publishing_a_finished_key_again_changes_nothing(remote: ArtifactStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    remote.publish(_folder(tmp_path / "a"), "k/x")
    remote.publish(_folder(tmp_path / "b", {"adapter_config.json": b"{}"}), "k/x")
    assert set(remote.manifest("k/x")) == set(ADAPTER)
    remote.publish(_folder(tmp_path / "f", {"run.json": b"{}"}) / "run.json", "k/run.json")
    assert remote.fetch_file("k/run.json", tmp_path / "got.json")
    assert (tmp_path / "got.json").read_bytes() == b"{}"
    assert not remote.fetch_file("k/none.json", tmp_path / "none.json")


def test_bad_roots_and_keys_are_refused(remote: ArtifactStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ArtifactError, match="ARTIFACT_ROOT 'nope://x'"):
        ArtifactStore("nope://x", cache_dir=tmp_path)
    for bad in ("../../etc/passwd", "/etc", "a/../../b"):
        with pytest.raises(ArtifactError, match="artifact key"):
            remote.materialize(bad)
        with pytest.raises(ArtifactError, match="artifact key"):
            remote.publish(tmp_path, bad)
    assert remote.key_for("/etc/passwd") is None  # no local root: no absolute path is a key
    with pytest.raises(ArtifactMissing, match="not a folder on this host"):
        remote.locate("/nowhere/adapter")


def test_the_zip_is_streamed_from_the_store(remote: ArtifactStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    big = random.Random(0).randbytes(2_300_000)  # incompressible, more than one read chunk
    remote.publish(_folder(tmp_path / "a", {**ADAPTER, "adapter_model.safetensors": big}), "k/a")
    files = sorted(remote.manifest("k/a").items())
    chunks = list(zip_stream(remote, "k/a", files))
    assert len(chunks) > 2  # sent as it is made, not as one body
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as zf:
        assert zf.testzip() is None
        assert zf.read("adapter_model.safetensors") == big
        assert zf.read("adapter_config.json") == ADAPTER["adapter_config.json"]


def test_a_poisoned_manifest_cannot_escape_the_cache(remote: ArtifactStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """File names in a remote manifest come from the store: each is checked as a key before
    anything is written, so a bucket someone else can write to cannot reach outside the copy."""
    key = "validation-1/run-2/checkpoint-4"
    remote.publish(_folder(tmp_path / "trained"), key)
    manifest = f"{remote._remote(key)}/{PUBLISHED}"
    with remote.fs.open(manifest, "w") as out:
        out.write(json.dumps({"files": {"../../../escaped.txt": 3}}))
    with pytest.raises(ArtifactError, match="leaves or skips a folder"):
        remote.materialize(key)
    assert not list(tmp_path.rglob("escaped.txt"))
