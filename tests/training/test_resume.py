"""A training process killed with SIGKILL resumes from its checkpoint, not from step 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from tests.scoring.tiny import tiny_llama, tiny_tokenizer
from tests.training.conftest import contains, examples, settings
from workers.training import train_adapter
from workers.training.checkpoints import complete_checkpoints

ROOT = Path(__file__).resolve().parents[2]


def _wait_for_step(log: Path, step: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and any(int(s) >= step for s in log.read_text().split()):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError(f"step {step} never came")


def test_resume_after_kill_9_continues_from_the_checkpoint(tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.training.killed_run", str(out)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    _wait_for_step(out.with_suffix(".steps"), 3, proc)  # checkpoint-2 is written before step 3
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert (out / "checkpoint-2").is_dir() and not (out / "checkpoint-6").exists()
    last_before_kill = complete_checkpoints(out)[-1].step

    steps = []
    resumed = train_adapter(
        tiny_llama(),
        tiny_tokenizer(),
        examples(),
        [],
        settings(),
        out,
        score=contains,
        on_step=steps.append,
    )
    assert resumed.resumed_from == last_before_kill
    assert steps[0].step == last_before_kill + 1 and steps[-1].step == 6

    whole = train_adapter(
        tiny_llama(),
        tiny_tokenizer(),
        examples(),
        [],
        settings(),
        tmp_path / "whole",
        score=contains,
    )
    a = load_file(resumed.checkpoints[-1].path / "adapter_model.safetensors")
    b = load_file(whole.checkpoints[-1].path / "adapter_model.safetensors")
    assert a.keys() == b.keys()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)  # the same run
