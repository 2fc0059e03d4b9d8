"""validation_runs.adapter_dir: artifact keys instead of a worker's folder

Adapters and checkpoints are now addressed by keys relative to ARTIFACT_ROOT
(``app.artifacts``), so a worker on another host, and the web process, reach them. Rows
written before hold the chosen checkpoint's folder as the training worker wrote it:
absolute, or relative to the worker's working directory (DATA_DIR's default, ``data``, is
relative). A folder inside the artifacts folder that code wrote to (ARTIFACTS_DIR, default
DATA_DIR/artifacts, as this process's settings name it) becomes its key, e.g.
``validation-3/run-7/checkpoint-8``. Any other folder is kept, as an absolute path: workers
read it where it is (on the host that has it) and the adapter download refuses it, both as
before. No column changes.

Downgrade: keys become folders again, under ARTIFACT_ROOT when that is a local folder (a
remote root's keys are left as they are: the code before keys cannot read a bucket).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 18:30:00
"""

import os
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUNS = sa.table("validation_runs", sa.column("id", sa.Integer), sa.column("adapter_dir", sa.String))


def as_key(value: str, folder: Path) -> str:
    """A stored folder as a key when it lies inside ``folder`` (resolved), else absolute."""
    path = Path(value)
    full = Path(os.path.realpath(path if path.is_absolute() else Path.cwd() / path))
    try:
        rel = full.relative_to(folder)
    except ValueError:
        return value if path.is_absolute() else str(full)
    return rel.as_posix() if rel.parts else str(full)


def _rewrite(change) -> None:  # type: ignore[no-untyped-def]
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(RUNS.c.id, RUNS.c.adapter_dir).where(RUNS.c.adapter_dir.is_not(None))
    ).all()
    for run_id, value in rows:
        new = change(value)
        if new != value:
            conn.execute(RUNS.update().where(RUNS.c.id == run_id).values(adapter_dir=new))


def upgrade() -> None:
    from app.config import get_settings

    folder = Path(os.path.realpath(get_settings().artifacts_path))
    _rewrite(lambda value: as_key(value, folder))


def _local_root() -> Path | None:
    from app.config import get_settings

    url = get_settings().artifact_root_url
    if url.startswith("file://"):
        url = url.removeprefix("file://")
    elif "://" in url:
        return None
    return Path(os.path.realpath(url))


def downgrade() -> None:
    root = _local_root()
    if root is not None:
        _rewrite(lambda value: value if Path(value).is_absolute() else str(root / value))
