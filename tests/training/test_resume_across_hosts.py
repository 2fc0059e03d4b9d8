"""A run stopped on one host resumes on another through the artifact store (issue 20): the
second host pulls the newest checkpoint whole (the older ones' score files only), continues
from it, and ends with the adapter an uninterrupted run trains."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import fsspec
import torch
from safetensors.torch import load_file

from app.artifacts import ArtifactStore
from tests.scoring.tiny import tiny_llama, tiny_tokenizer
from tests.training.conftest import contains, examples, settings, val_examples
from workers.jobs.run_artifacts import RunArtifacts
from workers.training import train_adapter
from workers.training.checkpoints import MARKER


def _train(artifacts: RunArtifacts, until_step: int | None = None):  # type: ignore[no-untyped-def]
    return train_adapter(
        tiny_llama(),
        tiny_tokenizer(),
        examples(),
        val_examples(),
        settings(),
        artifacts.dir,
        score=contains,
        on_checkpoint=lambda log: artifacts.publish_checkpoint(log.path, log.step),
        until_step=until_step,
    )


def test_a_run_resumes_on_another_host_from_the_store(tmp_path: Path) -> None:
    root = f"memory://familiar-resume-{uuid.uuid4().hex[:8]}/artifacts"
    try:
        host_a = RunArtifacts(ArtifactStore(root, cache_dir=tmp_path / "a"), 1, 2)
        first = _train(host_a, until_step=4)  # checkpoints 2 and 4, then the worker stops
        assert [c.step for c in first.checkpoints] == [2, 4]
        shutil.rmtree(tmp_path / "a")

        host_b = RunArtifacts(ArtifactStore(root, cache_dir=tmp_path / "b"), 1, 2)
        host_b.pull()
        assert (host_b.dir / "checkpoint-4" / "adapter_model.safetensors").is_file()
        older = sorted(p.name for p in (host_b.dir / "checkpoint-2").iterdir())
        assert older == [MARKER]  # its scores choose the best; its weights stay in the store
        rest = _train(host_b)
        assert rest.resumed_from == 4 and [s.step for s in rest.steps] == [5, 6]
        host_b.publish_all(rest.checkpoints)
        assert host_b.store.published_under(host_b.key) == [
            "checkpoint-2",
            "checkpoint-4",
            "checkpoint-6",
        ]

        whole = train_adapter(
            tiny_llama(),
            tiny_tokenizer(),
            examples(),
            val_examples(),
            settings(),
            tmp_path / "whole",
            score=contains,
        )
        a = load_file(rest.checkpoints[-1].path / "adapter_model.safetensors")
        b = load_file(whole.checkpoints[-1].path / "adapter_model.safetensors")
        assert a.keys() == b.keys()
        assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)  # the same run
    finally:
        fsspec.filesystem("memory").rm(root.removeprefix("memory:/"), recursive=True)
