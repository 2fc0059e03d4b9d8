from __future__ import annotations

import pytest

from app.jobs.kinds import KINDS
from tests.jobs.handlers import FINISHED, KIND


@pytest.fixture
def count_kind(monkeypatch: pytest.MonkeyPatch) -> str:
    """The test counter registered as a job kind for this test."""
    monkeypatch.setitem(KINDS, KIND.name, KIND)
    FINISHED.clear()
    return KIND.name
