"""A fresh embedded Familiar for a bench that drives the app in-process: a new data dir
(SQLite, no demo, no broker: jobs run where the bench calls them), migrated."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def fresh_app(prefix: str) -> Path:
    """Point the settings at a new temporary data dir and migrate it; the dir."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update(DATA_DIR=str(tmp), DEMO="false")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    from app.cli import _prepare

    _prepare()
    return tmp
