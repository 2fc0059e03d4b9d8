"""A training run for the kill -9 test: ``python -m tests.training.killed_run OUT_DIR``.

Writes each finished step to OUT_DIR.steps and slows down after step 2 so the test can
kill it (SIGKILL) after the checkpoint of step 2 and before the end.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from tests.scoring.tiny import tiny_llama, tiny_tokenizer
from tests.training.conftest import contains, examples, settings
from workers.training import train_adapter


def main(out_dir: Path) -> None:
    torch.set_num_threads(1)
    log = out_dir.with_suffix(".steps")

    def on_step(step):
        with open(log, "a") as fh:
            fh.write(f"{step.step}\n")
        if step.step >= 2:
            time.sleep(0.5)

    train_adapter(
        tiny_llama(),
        tiny_tokenizer(),
        examples(),
        [],
        settings(),
        out_dir,
        score=contains,
        on_step=on_step,
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
