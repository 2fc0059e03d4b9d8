"""bench/gpu_check.py runs on a CPU in its smoke mode (the transformers backend: scoring,
generation, a LoRA step, and the 2-process DDP step with gloo), with the numbers it says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT


@pytest.mark.slow
def test_cpu_smoke_reports_every_step(tmp_path: Path, model_cache: Path) -> None:
    out = tmp_path / "rows.json"
    cmd = [
        sys.executable,
        str(ROOT / "bench" / "gpu_check.py"),
        "--cpu-smoke",
        "--backends",
        "transformers",
        "--models",
        "packaged,8b",
        "--peak-tflops",
        "1",
        "--json",
        str(out),
    ]
    env = {**os.environ, "MODEL_CACHE": str(model_cache), "DATA_DIR": str(tmp_path / "data")}
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = json.loads(out.read_text())
    got = {(r["model"], r["task"]) for r in rows}
    for model in ("packaged-135M", "random-tiny"):  # --cpu-smoke: 8b becomes tiny
        for task in ("score", "generate", "lora_step", "lora_step_2proc"):
            assert (model, task) in got, (model, task, sorted(got))
    for r in rows:
        expected = {"score": 4 * (16 + 16), "lora_step": 2 * 32, "lora_step_2proc": 2 * 2 * 32}
        if r["task"] in expected:
            assert r["tokens"] == expected[r["task"]], r
        else:
            assert 0 < r["tokens"] <= 2 * 4, r  # 2 prompts, at most 4 new tokens each
        assert r["seconds"] > 0 and r["params"] > 0, r
        k = 6 if r["task"].startswith("lora") else 2
        gpus = 2 if r["task"] == "lora_step_2proc" else 1
        mfu = k * r["params"] * r["tokens"] / r["seconds"] / (gpus * 1e12)
        assert r["mfu"] == pytest.approx(mfu), r
    tiny = next(r for r in rows if r["model"] == "random-tiny")
    assert tiny["params"] < 10_000_000  # the tiny shape, not 8B
    assert "MFU" in run.stdout and "tok/s" in run.stdout


def test_unknown_model_is_refused_before_any_work() -> None:
    cmd = [sys.executable, str(ROOT / "bench" / "gpu_check.py"), "--models", "packaged,70b"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "unknown model '70b'" in run.stderr
