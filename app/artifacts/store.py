"""The artifact store: adapters and checkpoints under one ARTIFACT_ROOT that every host reaches.

The root is a folder (the default, DATA_DIR/artifacts), a shared mount, or any fsspec URL
(``s3://bucket/prefix`` for an S3-compatible store with the ``s3`` extra, ``memory://`` in
tests). Rows store keys (``app.artifacts.keys``), never a worker's absolute path.

Workers need local folders (peft loads an adapter from one; the Trainer writes checkpoints
into one): ``work_dir(key)`` is where a worker writes an artifact, ``publish(local, key)``
makes it the finished artifact, and ``materialize(key)`` gives a local folder holding it.
Under a local root these are the key's own folder, no copy is made and ``publish`` of that
folder does nothing. Under a remote root, ``work_dir`` and ``materialize`` use a local cache
(ARTIFACT_CACHE_DIR, one subfolder per root) and ``publish`` uploads.

Finished means whole: under a local root a folder is copied to ``.staging/`` and renamed
into place (the trainer renames its checkpoints into place the same way); object stores
have no rename of a folder, so a folder's files are uploaded first and its manifest
(``.familiar-published.json``: every file and its size) last, and a folder without its
manifest is not finished: readers refuse it and the next ``publish`` replaces it. Once
finished an artifact never changes: ``publish`` of a finished key does nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from app.artifacts.keys import ArtifactError, ArtifactMissing, check_key
from app.config import Settings, get_settings

PUBLISHED = ".familiar-published.json"
STAGING = ".staging"
S3_PROTOCOLS = ("s3", "s3a")


class ArtifactStore:
    """Keys under one root URL; see the module docstring."""

    def __init__(
        self,
        root: str,
        *,
        cache_dir: Path,
        storage_options: dict[str, Any] | None = None,
        s3_endpoint_url: str | None = None,
    ) -> None:
        options = dict(storage_options or {})
        protocol = root.split("://", 1)[0] if "://" in root else "file"
        if protocol in S3_PROTOCOLS and s3_endpoint_url:
            options.setdefault("endpoint_url", s3_endpoint_url)
        try:
            self.fs, base = fsspec.core.url_to_fs(root, **options)
        except (ImportError, ValueError, TypeError) as exc:
            hint = " (install Familiar's s3 extra: pip install 'familiar[s3]')" * (
                protocol in S3_PROTOCOLS
            )
            raise ArtifactError(f"ARTIFACT_ROOT {root!r}: {exc}{hint}") from exc
        self.root = root
        self.base = base.rstrip("/") or base
        self.is_local = isinstance(self.fs, LocalFileSystem)
        self.local_root = Path(base).resolve() if self.is_local else None
        slug = hashlib.sha256(self.fs.unstrip_protocol(self.base).encode()).hexdigest()[:12]
        self.cache = Path(cache_dir).resolve() / slug

    # --- names -----------------------------------------------------------------------

    def _remote(self, key: str) -> str:
        return f"{self.base}/{check_key(key)}"

    def url(self, key: str) -> str:
        """The artifact's full URL (``file:///...``, ``s3://...``)."""
        return self.fs.unstrip_protocol(self._remote(key))

    def work_dir(self, key: str) -> Path:
        """The local folder a worker writes ``key`` into before ``publish``: the key's own
        folder under a local root (nothing is copied), else its place in the local cache."""
        check_key(key)
        return (self.local_root or self.cache) / key

    def key_for(self, ref: str) -> str | None:
        """The key a row's reference names: the reference itself (a key), or, for a row
        written before keys, an absolute path inside a local root. None for an absolute
        path anywhere else; ``ArtifactError`` for a relative one that is no key."""
        if not ref:
            return None
        path = Path(ref)
        if not path.is_absolute():
            return check_key(ref)
        if self.local_root is None:
            return None
        try:
            rel = path.resolve().relative_to(self.local_root)
            return check_key(rel.as_posix())
        except (ValueError, ArtifactError):
            return None

    # --- reading ---------------------------------------------------------------------

    def manifest(self, key: str) -> dict[str, int]:
        """A finished folder's files (relative name: size in bytes), hidden files left out;
        ``ArtifactMissing`` when the folder is not there or not finished."""
        if self.local_root is not None:
            folder = self.local_root / check_key(key)
            if not folder.is_dir():
                raise ArtifactMissing(f"{self.url(key)}: no such artifact folder")
            return _local_files(folder)
        try:
            data = self.fs.cat_file(f"{self._remote(key)}/{PUBLISHED}")
        except FileNotFoundError:
            raise ArtifactMissing(
                f"{self.url(key)}: no such artifact folder (or its upload did not finish)"
            ) from None
        return {str(k): int(v) for k, v in json.loads(data)["files"].items()}

    def is_published(self, key: str) -> bool:
        """Whether ``key`` is a finished folder or a file in the store."""
        if self.local_root is not None:
            return (self.local_root / check_key(key)).exists()
        remote = self._remote(key)
        self.fs.invalidate_cache()  # another host may have written since (s3fs lists once)
        return self.fs.exists(f"{remote}/{PUBLISHED}") or self.fs.isfile(remote)

    def published_under(self, key: str) -> list[str]:
        """The names of the finished folders directly under ``key``."""
        if self.local_root is not None:
            folder = self.local_root / check_key(key)
            if not folder.is_dir():
                return []
            return sorted(
                c.name for c in folder.iterdir() if c.is_dir() and not c.name.startswith(".")
            )
        self.fs.invalidate_cache()
        found = self.fs.glob(f"{self._remote(key)}/*/{PUBLISHED}")
        return sorted(Path(str(p)).parent.name for p in found)

    def open(self, key: str) -> IO[bytes]:
        """A file of the store, opened for reading (streamed from a remote root)."""
        return self.fs.open(self._remote(key), "rb")

    def materialize(self, key: str) -> Path:
        """A local folder holding the finished folder ``key``: the folder itself under a
        local root; under a remote root a copy in the local cache, downloaded once (again
        only when the store's manifest differs from the copy's)."""
        if self.local_root is not None:
            folder = self.local_root / check_key(key)
            if not folder.is_dir():
                raise ArtifactMissing(f"{self.url(key)}: no such artifact folder")
            return folder
        files = self.manifest(key)
        target = self.cache / key
        if _copy_matches(target, files):
            return target
        partial = self.cache / STAGING / uuid.uuid4().hex
        try:
            for rel, size in files.items():
                dest = partial / check_key(rel)  # names from the store: never outside the copy
                dest.parent.mkdir(parents=True, exist_ok=True)
                self.fs.get_file(f"{self._remote(key)}/{rel}", str(dest))
                if dest.stat().st_size != size:
                    raise ArtifactMissing(f"{self.url(key)}/{rel}: changed while downloading")
            _write_manifest(partial, files)
            _replace_dir(partial, target, files)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        return target

    def locate(self, ref: str) -> Path:
        """A local folder with what a row's reference names, for a worker: ``materialize``
        of its key; a row written before keys that names an absolute folder outside the
        root is read where it is (on the host that has it)."""
        key = self.key_for(ref)
        if key is not None:
            return self.materialize(key)
        if Path(ref).is_dir():
            return Path(ref)
        raise ArtifactMissing(
            f"{ref}: outside the artifact store ({self.root}) and not a folder on this host"
        )

    def fetch_file(self, key: str, dest: Path) -> bool:
        """Copy the file ``key`` to ``dest`` (whole, or not at all); False when absent."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}")
        try:
            self.fs.get_file(self._remote(key), str(tmp))
            os.replace(tmp, dest)
        except FileNotFoundError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        return True

    # --- writing ---------------------------------------------------------------------

    def publish(self, local: Path, key: str) -> None:
        """Make the folder or file ``local`` the finished artifact ``key`` (see the module
        docstring: whole or not at all; a key already finished is left as it is)."""
        local = Path(local)
        if not local.exists():
            raise ArtifactMissing(f"{local}: nothing to publish as {key}")
        if self.local_root is not None:
            self._publish_local(local, self.local_root / check_key(key))
        elif local.is_file():
            self.fs.put_file(str(local), self._remote(key))  # one object: whole or absent
        elif not self.is_published(key):
            self._upload_folder(local, key)

    def _publish_local(self, local: Path, target: Path) -> None:
        if target.exists() and (local.is_dir() or local.resolve() == target.resolve()):
            return
        staged = self.local_root / STAGING / uuid.uuid4().hex  # type: ignore[operator]
        staged.parent.mkdir(parents=True, exist_ok=True)
        try:
            if local.is_dir():
                shutil.copytree(local, staged, ignore=shutil.ignore_patterns(".*"))
            else:
                shutil.copy2(local, staged)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(staged, target)
        except OSError as exc:
            if not (local.is_dir() and target.is_dir()):  # else: another publisher won
                raise ArtifactError(f"could not publish {local} as {target}: {exc}") from exc
        finally:
            with contextlib.suppress(OSError):
                shutil.rmtree(staged) if staged.is_dir() else staged.unlink()

    def _upload_folder(self, local: Path, key: str) -> None:
        remote = self._remote(key)
        if self.fs.exists(remote):  # what an interrupted upload left: not finished
            self.fs.rm(remote, recursive=True)
        files = _local_files(local)
        for rel in files:
            self.fs.put_file(str(local / rel), f"{remote}/{rel}")
        body = json.dumps({"files": files}, sort_keys=True).encode()
        self.fs.pipe_file(f"{remote}/{PUBLISHED}", body)  # last: now it is finished
        if local.resolve() == self.work_dir(key).resolve():
            _write_manifest(local, files)  # this host's copy is the finished one


def _local_files(folder: Path) -> dict[str, int]:
    """Every file under ``folder`` (relative posix name: size), hidden ones left out."""
    return {
        p.relative_to(folder).as_posix(): p.stat().st_size
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(s.startswith(".") for s in p.relative_to(folder).parts)
    }


def _write_manifest(folder: Path, files: dict[str, int]) -> None:
    tmp = folder / f"{PUBLISHED}.tmp"
    tmp.write_text(json.dumps({"files": files}, sort_keys=True), encoding="utf-8")
    os.replace(tmp, folder / PUBLISHED)


def _copy_matches(folder: Path, files: dict[str, int]) -> bool:
    """Whether ``folder`` is a finished local copy of a folder with exactly ``files``."""
    try:
        have = json.loads((folder / PUBLISHED).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError):
        return False
    return have == files and all((folder / rel).is_file() for rel in files)


def _replace_dir(partial: Path, target: Path, files: dict[str, int]) -> None:
    """Rename the downloaded ``partial`` into place (an unfinished copy there goes)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not _copy_matches(target, files):
        shutil.rmtree(target)
    try:
        os.rename(partial, target)
    except OSError:
        if not _copy_matches(target, files):  # else: another process downloaded it first
            raise


def artifact_store(settings: Settings | None = None) -> ArtifactStore:
    """The store the settings name (ARTIFACT_ROOT and its options)."""
    s = settings or get_settings()
    return ArtifactStore(
        s.artifact_root_url,
        cache_dir=s.artifact_cache_path,
        storage_options=s.artifact_storage_options,
        s3_endpoint_url=s.artifact_s3_endpoint_url,
    )
