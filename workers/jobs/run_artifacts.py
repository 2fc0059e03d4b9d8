"""A training run's artifacts in the store (``app.artifacts``): where the trainer writes,
what it resumes from, what it publishes.

The trainer (``workers.training``) works in a local folder, ``RunArtifacts.dir``: under a
local ARTIFACT_ROOT the run's own folder in the root (as before keys: nothing is copied and
nothing is uploaded), else the run's place in the worker's cache. Before training, ``pull``
brings the run's finished checkpoints from the store, so a worker on another host resumes
where a killed one stopped: the newest one whole, the older ones' score files only (they
choose the best checkpoint; their weights stay in the store). Each checkpoint is published
as soon as it is written, with ``run.json`` (the run's fingerprint: a host never resumes
another run's checkpoints), and every one again at the end (finished keys are skipped).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.artifacts import ArtifactStore, join_key, run_key

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


class RunArtifacts:
    """One validation run's folder in the store and its local working copy."""

    def __init__(self, store: ArtifactStore, validation_id: int, run_id: int) -> None:
        self.store = store
        self.key = run_key(validation_id, run_id)
        self.dir = store.work_dir(self.key)
        self._run_file_published = False

    def checkpoint_key(self, step: int) -> str:
        return join_key(self.key, f"checkpoint-{int(step)}")

    def pull(self) -> None:
        """Bring the run's finished checkpoints from a remote store into ``dir``."""
        if self.store.is_local:
            return
        from workers.training.checkpoints import MARKER, RUN_FILE

        self.store.fetch_file(join_key(self.key, RUN_FILE), self.dir / RUN_FILE)
        steps = {
            int(m.group(1)): name
            for name in self.store.published_under(self.key)
            if (m := _CHECKPOINT.match(name))
        }
        for step, name in sorted(steps.items()):
            if (self.dir / name / MARKER).is_file():
                continue  # written or pulled here before
            if step == max(steps):
                self.store.materialize(join_key(self.key, name))  # into dir: same place
            else:
                self.store.fetch_file(join_key(self.key, name, MARKER), self.dir / name / MARKER)

    def publish_checkpoint(self, path: Path, step: int) -> str:
        """Publish one complete checkpoint folder (and, once, the run's ``run.json``)."""
        from workers.training.checkpoints import RUN_FILE

        if not self._run_file_published and (self.dir / RUN_FILE).is_file():
            self.store.publish(self.dir / RUN_FILE, join_key(self.key, RUN_FILE))
            self._run_file_published = True
        key = self.checkpoint_key(step)
        self.store.publish(path, key)
        return key

    def publish_all(self, checkpoints: Sequence[Any]) -> None:
        """Publish every checkpoint of a finished call (those already finished are skipped)."""
        for log in checkpoints:
            if (Path(log.path) / "adapter_config.json").is_file():  # not a score file only
                self.publish_checkpoint(Path(log.path), log.step)
