"""TORCH_THREADS: how many CPU threads torch uses for model work."""

from __future__ import annotations

from app.config import get_settings


def configure_torch_threads() -> None:
    """Apply TORCH_THREADS (unset: torch's default, all cores) before any model work."""
    threads = get_settings().torch_threads
    if threads:
        import torch

        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
