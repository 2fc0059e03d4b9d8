"""Model backends (``base.ModelBackend``): what jobs need from a target model.

``load_backend(kind, model, ...)`` resolves the registry entry (``app.backends``) and calls
its loader; jobs and cores then use only the protocol's methods, never a raw model.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from app.backends import DEFAULT_BACKEND, get_backend_kind


def load_backend(
    kind: str = DEFAULT_BACKEND,
    model: str = "",
    *,
    cache_dir: Path,
    dtype: str = "auto",
    device: str = "auto",
) -> Any:
    """The backend ``kind`` serving ``model`` (a ``ModelBackend``)."""
    entry = get_backend_kind(kind)
    module, _, function = entry.loader.partition(":")
    loader = getattr(importlib.import_module(module), function)
    return loader(model, cache_dir=cache_dir, dtype=dtype, device=device)
