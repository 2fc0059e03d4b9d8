"""Load a trained LoRA checkpoint onto the base model, for evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workers.training.types import TrainingInputError


def load_adapter(model: Any, adapter_dir: Path) -> Any:
    """``model`` with the LoRA adapter in ``adapter_dir`` (a checkpoint folder of
    ``train_adapter``) applied, in eval mode, frozen.

    Returns a peft ``PeftModel`` wrapping ``model`` (the adapter is NOT merged, so the base
    weights stay untouched); call ``.unload()`` on it to get the bare base model back.
    """
    from peft import PeftModel

    adapter_dir = Path(adapter_dir)
    if not (adapter_dir / "adapter_config.json").is_file():
        raise TrainingInputError(f"{adapter_dir}: not an adapter folder (no adapter_config.json)")
    tuned = PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=False)
    return tuned.eval()
