"""TORCH_THREADS reaches torch before model work."""

from __future__ import annotations

import pytest
import torch

from app.config import get_settings
from workers.modeling.threads import configure_torch_threads


def test_torch_threads_setting_is_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    before = torch.get_num_threads()
    monkeypatch.setenv("TORCH_THREADS", "1")
    get_settings.cache_clear()
    try:
        configure_torch_threads()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
        get_settings.cache_clear()


def test_unset_leaves_torch_default(monkeypatch: pytest.MonkeyPatch) -> None:
    before = torch.get_num_threads()
    monkeypatch.delenv("TORCH_THREADS", raising=False)
    get_settings.cache_clear()
    try:
        configure_torch_threads()
        assert torch.get_num_threads() == before
    finally:
        get_settings.cache_clear()
