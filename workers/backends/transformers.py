"""The in-process transformers backend: the embedded default (``app.backends``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from app.backends import get_backend_kind
from workers.backends.base import JudgeFn, ModelBackend
from workers.modeling.loader import Target, describe_target
from workers.scoring.items import ScoreItem, ScoreResult, effective_max_length

if TYPE_CHECKING:
    from app.specs.training import TrainSettings
    from workers.training.types import CheckpointLog, Example, StepLog, TrainResult, ValExample


@dataclass
class TransformersBackend:
    """A loaded target run in this process: fast batched scoring, batched greedy
    generation (through a peft adapter when asked), LoRA training."""

    target: Target
    kind: str = "transformers"
    cache_dir: Path | None = None  # the model cache it was loaded from (training ranks reuse it)

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def model_key(self) -> str:
        return self.target.model_key

    @property
    def dtype(self) -> str:
        return self.target.dtype

    @property
    def device(self) -> str:
        return self.target.device

    @property
    def tokenizer(self) -> Any:
        return self.target.tokenizer

    @property
    def has_chat_template(self) -> bool:
        return self.target.has_chat_template

    @property
    def version(self) -> str:
        return get_backend_kind(self.kind).version

    @property
    def tag(self) -> str:
        return f"{self.kind}@{self.version}"

    @property
    def model(self) -> Any:
        """The transformers model (for code that is itself about this backend)."""
        return self.target.model

    def describe(self) -> dict[str, Any]:
        return {**describe_target(self.target), "backend": self.tag}

    def max_length(self, requested: int | None) -> int:
        return effective_max_length(self.target.model, requested)

    def score(self, items: Sequence[ScoreItem], **kwargs: Any) -> list[ScoreResult]:
        from workers.scoring.batched import score_items

        return score_items(self.target.model, items, **kwargs)

    def projected_gradients(
        self,
        items: Sequence[ScoreItem],
        settings: Any,
        *,
        limit: int,
        on_progress: Any = None,
    ) -> list[Any]:
        """GRACE's per-item projected gradients (``workers.scoring.gradients``); an optional
        capability: a backend without it cannot scan metrics that need ``gradients``."""
        from workers.scoring.gradients import projected_gradients

        tok = self.target.tokenizer
        pad = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)
        return projected_gradients(
            self.target.model, items, settings, limit=limit, pad_id=pad, on_progress=on_progress
        )

    def generate(
        self,
        prompts: Sequence[Sequence[int]],
        *,
        max_new_tokens: int,
        adapter: Path | None = None,
        **kwargs: Any,
    ) -> list[str]:
        from workers.scoring.generate import generate_greedy

        model = self._with_adapter(adapter)
        try:
            return generate_greedy(
                model, self.target.tokenizer, prompts, max_new_tokens=max_new_tokens, **kwargs
            )
        finally:
            if adapter is not None:
                model.unload()  # the cached base model, bare again

    def _with_adapter(self, adapter: Path | None) -> Any:
        if adapter is None:
            return self.target.model
        from workers.training import load_adapter

        return load_adapter(self.target.model, Path(adapter))

    def train_adapter(
        self,
        train: Sequence[Example],
        val: Sequence[ValExample],
        settings: TrainSettings,
        out_dir: Path,
        *,
        score: JudgeFn,
        on_step: Callable[[StepLog], None] | None = None,
        on_checkpoint: Callable[[CheckpointLog], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        until_step: int | None = None,
    ) -> TrainResult:
        """LoRA with peft in this process (``workers.training.train_adapter``), or in a
        process group when the settings ask for several processes or a 4-bit base
        (``workers.training.distributed``: the ranks load the model themselves); either way
        after the managed vLLM servers of this worker have freed the GPU (unless they share
        it: ``workers.inference_server.managed.release_gpu``)."""
        from workers.inference_server.managed import release_gpu
        from workers.training import check_lora_targets, train_adapter

        check_lora_targets(self.target.model, settings.target_modules)
        release_gpu()
        if settings.uses_launcher:
            from workers.training.distributed import train_distributed

            return train_distributed(
                self._source_name(),
                cache_dir=self._cache_dir(),
                dtype=self.target.dtype,
                device=self.target.device,
                tokenizer=self.target.tokenizer,
                train=train,
                val=val,
                settings=settings,
                out_dir=out_dir,
                score=score,
                on_step=on_step,
                on_checkpoint=on_checkpoint,
                should_stop=should_stop,
                until_step=until_step,
            )
        return train_adapter(
            self.target.model,
            self.target.tokenizer,
            train,
            val,
            settings,
            out_dir,
            score=score,
            on_step=on_step,
            on_checkpoint=on_checkpoint,
            should_stop=should_stop,
            until_step=until_step,
        )

    def _source_name(self) -> str:
        """The name the ranks load the model by (a folder made absolute: they run elsewhere)."""
        name = self.target.name
        if self.target.source_kind == "folder" and Path(name).expanduser().exists():
            return str(Path(name).expanduser().resolve())
        return name

    def _cache_dir(self) -> Path:
        if self.cache_dir is not None:
            return self.cache_dir
        from app.config import get_settings

        return get_settings().models_dir


def load_transformers(
    model: str, *, cache_dir: Path, dtype: str = "auto", device: str = "auto"
) -> Any:
    from workers import modeling  # looked up at call time: the one loader (tests replace it)

    loaded = modeling.load_target(model, cache_dir=cache_dir, dtype=dtype, device=device)
    if isinstance(loaded, Target):
        return TransformersBackend(loaded, cache_dir=Path(cache_dir))
    return loaded


def as_backend(held: Any, tokenizer: Any = None) -> Any:
    """A backend for what a caller holds: a backend as it is; a loaded ``Target``; or a bare
    transformers model with its tokenizer (as unit tests and benches hold them)."""
    if isinstance(held, ModelBackend):
        return held
    if isinstance(held, Target):
        return TransformersBackend(held)
    if tokenizer is None and hasattr(held, "model") and hasattr(held, "tokenizer"):
        return TransformersBackend(_bare_target(held.model, held.tokenizer))  # target-like
    return TransformersBackend(_bare_target(held, tokenizer))


def _bare_target(model: Any, tokenizer: Any) -> Target:
    param = next(model.parameters())
    dtype = "bfloat16" if param.dtype == torch.bfloat16 else "float32"
    chat = bool(getattr(tokenizer, "chat_template", None))
    return Target(model, tokenizer, "model", "", dtype, str(param.device), chat)
