"""Model backends (``base.ModelBackend``): what jobs need from a target model.

``load_backend(kind, model, ...)`` resolves the registry entry (``app.backends``) and calls
its loader; jobs and cores then use only the protocol's methods, never a raw model.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from app.backends import DEFAULT_BACKEND, get_backend_kind
from workers.backends.base import ModelBackend


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
    return backend
