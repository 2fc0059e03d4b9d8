"""Checkpoint folders: written whole or not at all, found again after a crash.

``out_dir/checkpoint-<step>/`` holds the adapter (``adapter_model.safetensors``,
``adapter_config.json``), the optimizer, scheduler and RNG states and the Trainer state (so
``Trainer.train(resume_from_checkpoint=...)`` continues exactly), plus
``familiar-checkpoint.json`` (step, validation loss and accuracy, the generated validation
answers). Each one is written under ``out_dir/.staging/`` and renamed into place when
complete: a folder named ``checkpoint-<step>`` is always whole. ``out_dir/run.json`` records
the run's settings and data fingerprint, so a later call cannot resume someone else's run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from workers.training.types import CheckpointLog, TrainingInputError

MARKER = "familiar-checkpoint.json"
RUN_FILE = "run.json"
STAGING = ".staging"
_NAME = re.compile(r"^checkpoint-(\d+)$")


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def complete_checkpoints(out_dir: Path) -> list[CheckpointLog]:
    """Every complete checkpoint in ``out_dir``, by step."""
    found = []
    if not out_dir.is_dir():
        return []
    for child in out_dir.iterdir():
        match = _NAME.match(child.name)
        if match and (child / MARKER).is_file():
            found.append(read_checkpoint(child))
    return sorted(found, key=lambda c: c.step)


def read_checkpoint(folder: Path) -> CheckpointLog:
    data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    return CheckpointLog(
        step=int(data["step"]),
        val_loss=data.get("val_loss"),
        val_accuracy=data.get("val_accuracy"),
        path=folder,
        predictions=list(data.get("predictions") or []),
    )


def clear_staging(out_dir: Path) -> None:
    shutil.rmtree(out_dir / STAGING, ignore_errors=True)


def fingerprint(settings: dict[str, Any], train_ids: list[list[int]], val: list[Any]) -> str:
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for ids in train_ids:
        digest.update(json.dumps(ids).encode())
    digest.update(json.dumps(val, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def claim_run(out_dir: Path, run: dict[str, Any]) -> None:
    """Record the run in ``out_dir`` or check that the one recorded there is the same."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / RUN_FILE
    if path.is_file():
        have = json.loads(path.read_text(encoding="utf-8"))
        if have.get("fingerprint") != run["fingerprint"]:
            raise TrainingInputError(
                f"{out_dir} holds checkpoints of another run (other settings or examples); "
                "use an empty folder"
            )
        return
    write_json_atomic(path, run)


def best_checkpoint(checkpoints: list[CheckpointLog], select_by: str) -> tuple[CheckpointLog, str]:
    """The best checkpoint (ties: the earliest) and a note when the criterion was missing."""
    if select_by == "accuracy":
        scored = [c for c in checkpoints if c.val_accuracy is not None]
        if scored:
            return max(scored, key=lambda c: (c.val_accuracy, -c.step)), ""
    else:
        scored = [c for c in checkpoints if c.val_loss is not None]
        if scored:
            return min(scored, key=lambda c: (c.val_loss, c.step)), ""
    return checkpoints[-1], f"no validation {select_by}: the last checkpoint is the best one"
