"""A zip of an artifact folder, streamed: each file read from the store in chunks (fsspec)
and each compressed chunk sent on, so neither the folder nor the zip is held in memory.

The standard library's ``zipfile`` writes to a stream it cannot seek when the stream has no
``tell``: each member then carries its sizes in a data descriptor after its data, which
every unzip tool reads. ``_Sink`` is that stream; nothing else is hand-written.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator

from app.artifacts.store import ArtifactStore

CHUNK = 1 << 20


class _Sink:
    """A write-only stream without ``tell``: zipfile's bytes, taken as they come."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def zip_stream(store: ArtifactStore, key: str, files: Iterable[tuple[str, int]]) -> Iterator[bytes]:
    """The zip of ``files`` (name relative to the folder ``key``, size) of the store."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zf:  # type: ignore[arg-type]
        for name, size in files:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type, info.file_size = zipfile.ZIP_DEFLATED, size
            with store.open(f"{key}/{name}") as src, zf.open(info, "w") as dst:
                while chunk := src.read(CHUNK):
                    dst.write(chunk)
                    if out := sink.take():
                        yield out
            if out := sink.take():
                yield out
    yield sink.take()
