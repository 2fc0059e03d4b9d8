"""Settings for bigger targets (issue 20): refused before any work where the hardware or
the batch cannot do them; gradient checkpointing trains the same run on a CPU."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from app.specs.training import TrainingSettingsError, TrainSettings
from tests.scoring.tiny import tiny_llama, tiny_tokenizer
from tests.training.conftest import contains, examples, settings, val_examples
from workers.training import TrainingInputError, hardware, train_adapter
from workers.training.distributed import train_distributed
from workers.training.trainer import run_identity


def test_processes_must_split_the_global_batch_evenly():
    with pytest.raises(
        TrainingSettingsError, match="batch_size .4. or grad_accum .1. a multiple of 3"
    ):
        TrainSettings(processes=3, batch_size=4)
    assert hardware.rank_batches(TrainSettings(processes=2, batch_size=4)) == (2, 1)
    assert hardware.rank_batches(TrainSettings(processes=2, batch_size=3, grad_accum=4)) == (3, 2)


def test_fsdp_needs_several_processes():
    with pytest.raises(TrainingSettingsError, match="fsdp shards the model across processes"):
        TrainSettings(strategy="fsdp")


def _refused(tmp_path, device: str = "cpu", **kw) -> str:
    out = tmp_path / "run"
    with pytest.raises(TrainingInputError) as caught:
        train_distributed(
            "/nonexistent-model",
            cache_dir=tmp_path / "cache",
            dtype="float32",
            device=device,
            tokenizer=tiny_tokenizer(),
            train=examples(),
            val=[],
            settings=TrainSettings(**kw),
            out_dir=out,
            score=contains,
        )
    assert not out.exists()  # refused before any work
    return str(caught.value)


def test_4bit_without_a_gpu_is_refused(tmp_path):
    assert not torch.cuda.is_available()  # this machine: the CPU refusal is the real one
    message = _refused(tmp_path, load_in_4bit=True)
    assert "load_in_4bit: QLoRA's 4-bit base needs a CUDA GPU" in message
    assert "this worker trains on cpu" in message


def test_4bit_without_bitsandbytes_is_refused(tmp_path, monkeypatch):
    if __import__("importlib").util.find_spec("bitsandbytes") is not None:
        pytest.skip("bitsandbytes is installed here")
    monkeypatch.setattr(hardware, "cuda_devices", lambda: 1)  # a GPU worker without the package
    message = _refused(tmp_path, device="cuda", load_in_4bit=True)
    assert "bitsandbytes is not installed" in message


def test_fsdp_on_a_cpu_is_refused(tmp_path):
    message = _refused(tmp_path, processes=2, batch_size=4, strategy="fsdp")
    assert "fsdp shards the model across GPUs; this worker trains on cpu" in message


def test_more_processes_than_gpus_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(hardware, "cuda_devices", lambda: 2)
    message = _refused(tmp_path, device="cuda", processes=4, batch_size=4)
    assert "processes: 4 processes need 4 GPUs; this worker sees 2" in message


def test_a_model_the_ranks_cannot_load_is_refused(tmp_path):
    message = _refused(tmp_path, processes=2, batch_size=4)
    assert "the training processes cannot load the model" in message


def test_how_a_run_executes_is_not_part_of_its_identity():
    one = run_identity(TrainSettings())
    assert run_identity(TrainSettings(processes=2, gradient_checkpointing=True)) == one
    assert "load_in_4bit" not in one and "processes" not in one
    assert run_identity(TrainSettings(load_in_4bit=True)) != one


def test_gradient_checkpointing_trains_the_same_run(tmp_path):
    runs = {}
    for on in (False, True):
        model, steps, flags = tiny_llama(), [], []

        def on_step(log, model=model, steps=steps, flags=flags):
            steps.append(log)
            flags.append(model.is_gradient_checkpointing)

        result = train_adapter(
            model,
            tiny_tokenizer(),
            examples(),
            val_examples(),
            settings(gradient_checkpointing=on),
            tmp_path / str(on),
            score=contains,
            on_step=on_step,
        )
        assert flags == [on] * len(steps)  # it was on during training, and only when asked
        assert not model.is_gradient_checkpointing  # handed back as it came
        runs[on] = (steps, load_file(result.checkpoints[-1].path / "adapter_model.safetensors"))
    (plain, a), (recomputed, b) = runs[False], runs[True]
    for x, y in zip(plain, recomputed, strict=True):
        assert x.loss == pytest.approx(y.loss, rel=1e-6)
    assert max(float((a[k] - b[k]).abs().max()) for k in a) <= 1e-6


SUMMARY = """
torch.distributed.elastic.multiprocessing.errors.ChildFailedError:
============================================================
workers.training.rank_main FAILED
------------------------------------------------------------
Failures:
[1]:
  time      : 2026-12-07_18:40:01
  host      : box
  rank      : 1 (local_rank: 1)
  exitcode  : -9 (pid: 102)
  error_file: <N/A>
  traceback : Signal 9 (SIGKILL) received by PID 102
------------------------------------------------------------
Root Cause (first observed failure):
[0]:
  time      : 2026-12-07_18:40:01
  host      : box
  rank      : 0 (local_rank: 0)
  exitcode  : 1 (pid: 101)
  error_file: <N/A>
============================================================
"""


def test_the_killed_rank_is_named_not_the_one_that_lost_its_peer():
    from workers.training.distributed import failed_rank

    assert failed_rank(SUMMARY) == (1, -9)  # rank 0 only exited after its peer vanished
    assert failed_rank(SUMMARY.replace("-9 (pid", "2 (pid")) == (0, 1)  # no kill: root cause
    assert failed_rank("no summary") is None
