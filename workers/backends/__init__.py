"""Model backends (``base.ModelBackend``): what jobs need from a target model.

``load_backend(kind, model, ...)`` resolves the registry entry (``app.backends``) and calls
its loader; jobs and cores then use only the protocol's methods, never a raw model.

Inside ``backends_closed_after()`` (the job runner wraps every job in it) each backend
loaded is closed when the block ends, however it ends: a server backend's HTTP connections
do not outlive its job. A backend without ``close`` (in-process) has nothing to close.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from app.backends import DEFAULT_BACKEND, get_backend_kind
from workers.backends.base import ModelBackend

log = logging.getLogger(__name__)
# the backends loaded in the current job (copied into threads the job starts with
# asyncio.to_thread, so the lab's in-worker teacher counts too); None: not in a job
_opened: ContextVar[list[object] | None] = ContextVar("familiar_backends_opened", default=None)


def load_backend(
    kind: str = DEFAULT_BACKEND,
    model: str = "",
    *,
    cache_dir: Path,
    dtype: str = "auto",
    device: str = "auto",
) -> ModelBackend:
    """The backend ``kind`` serving ``model``."""
    entry = get_backend_kind(kind)
    module, _, function = entry.loader.partition(":")
    loader = getattr(importlib.import_module(module), function)
    backend: ModelBackend = loader(model, cache_dir=cache_dir, dtype=dtype, device=device)
    opened = _opened.get()
    if opened is not None:
        opened.append(backend)
    return backend


@contextlib.contextmanager
def backends_closed_after() -> Iterator[list[object]]:
    """Close every backend loaded inside the block when it ends (a job's lifetime)."""
    opened: list[object] = []
    token = _opened.set(opened)
    try:
        yield opened
    finally:
        _opened.reset(token)
        for backend in opened:
            close = getattr(backend, "close", None)
            if close is None:
                continue
            try:
                close()
            except Exception:  # noqa: BLE001 - a failed close must not change the job's end
                log.warning("could not close the %s backend", type(backend).__name__)
