"""LoRA fine-tuning of the target on one strategy's responses (issue 12, validation).

A pure worker-side library: texts and settings in, adapter checkpoints and curves out; no
database, no Celery. ``train_adapter`` trains, ``load_adapter`` loads a checkpoint for
evaluation. See ``workers.training.trainer`` for the decisions.
"""

from workers.training.adapters import load_adapter
from workers.training.examples import (
    build_example,
    check_lora_targets,
    encode_example,
    end_of_turn_id,
)
from workers.training.trainer import resolve_precision, train_adapter
from workers.training.types import (
    CheckpointLog,
    CheckpointWriteError,
    Example,
    StepLog,
    TrainingCancelled,
    TrainingError,
    TrainingInputError,
    TrainResult,
    ValExample,
)

__all__ = [
    "CheckpointLog",
    "CheckpointWriteError",
    "Example",
    "StepLog",
    "TrainResult",
    "TrainingCancelled",
    "TrainingError",
    "TrainingInputError",
    "ValExample",
    "build_example",
    "check_lora_targets",
    "encode_example",
    "end_of_turn_id",
    "load_adapter",
    "resolve_precision",
    "train_adapter",
]
