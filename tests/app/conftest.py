"""Fixtures shared by the app tests."""

from __future__ import annotations

import pytest

from tests.app.planning_project import ANALYZE_TOKENIZER, upload_planning
from tests.scoring.tiny import tiny_tokenizer


@pytest.fixture
def plans(client, monkeypatch: pytest.MonkeyPatch) -> int:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ANALYZE_TOKENIZER, lambda *a, **k: tiny_tokenizer())
    return upload_planning(client)
