"""Artifact keys: the names rows store for adapters and checkpoints, relative to ARTIFACT_ROOT.

A key is a relative, slash-separated name such as ``validation-3/run-7/checkpoint-8``. It
never holds a worker's absolute path, a URL, ``..`` or a segment starting with a dot (those
are the store's own: staging folders and completion markers), so every key names something
inside the root, whatever the root is (a folder, a bucket, a mount).
"""

from __future__ import annotations

import re

_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,199}")  # whole segment: fullmatch
MAX_KEY = 900  # the column holding a key is 1000 characters; a root prefix is not stored


class ArtifactError(ValueError):
    """A bad artifact key or root (the message names it and what is wrong)."""


class ArtifactMissing(ArtifactError):
    """The artifact a key names is not in the store (or not finished being written)."""


def check_key(key: str) -> str:
    """``key`` itself when it is a valid artifact key, else ``ArtifactError`` saying why."""
    if not isinstance(key, str) or not key:
        raise ArtifactError("artifact key: empty")
    if key.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", key):
        raise ArtifactError(f"artifact key {key!r}: an absolute path, not a key under the root")
    if "://" in key:
        raise ArtifactError(f"artifact key {key!r}: a URL, not a key under the root")
    if len(key) > MAX_KEY:
        raise ArtifactError(f"artifact key {key[:40]!r}...: longer than {MAX_KEY} characters")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise ArtifactError(f"artifact key {key!r}: '{segment}' leaves or skips a folder")
        if not _SEGMENT.fullmatch(segment):
            raise ArtifactError(
                f"artifact key {key!r}: segment {segment!r} may hold only letters, digits, "
                "'.', '_' and '-', and may not start with '.' or '-'"
            )
    return key


def join_key(*parts: str) -> str:
    """Keys joined with '/', checked."""
    return check_key("/".join(p.strip("/") for p in parts))


def run_key(validation_id: int, run_id: int) -> str:
    """The key of a validation run's folder (its checkpoints are keys below it)."""
    return join_key(f"validation-{int(validation_id)}", f"run-{int(run_id)}")
