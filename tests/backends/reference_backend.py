"""A second model backend, written outside Familiar's code: it proves the seam.

Deliberately plain: scores one item at a time with full float32 logits
(``workers.scoring.reference``) and generates one prompt at a time with transformers'
own ``generate``; it cannot train. Registered by the tests with ``registered_backend``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from workers.backends.base import BackendCapabilityError
from workers.modeling.loader import Target, describe_target
from workers.scoring.generate import stop_ids
from workers.scoring.items import ScoreItem, ScoreResult, effective_max_length
from workers.scoring.reference import reference_score


@dataclass
class ReferenceBackend:
    target: Target
    kind: str = "reference"
    version: str = "1"

    @property
    def tag(self) -> str:
        return f"{self.kind}@{self.version}"

    name = property(lambda self: self.target.name)
    model_key = property(lambda self: self.target.model_key)
    dtype = property(lambda self: self.target.dtype)
    device = property(lambda self: self.target.device)
    tokenizer = property(lambda self: self.target.tokenizer)
    has_chat_template = property(lambda self: self.target.has_chat_template)

    def describe(self) -> dict[str, Any]:
        return {**describe_target(self.target), "backend": self.tag}

    def max_length(self, requested: int | None) -> int:
        return effective_max_length(self.target.model, requested)

    def score(
        self,
        items: Sequence[ScoreItem],
        *,
        max_length: int | None = None,
        token_logprobs: bool = False,
        on_progress: Callable[[int, int, int], None] | None = None,
        on_batch: Callable[[dict[int, ScoreResult]], None] | None = None,
        **_: Any,
    ) -> list[ScoreResult]:
        out: list[ScoreResult] = []
        tokens = 0
        for i, item in enumerate(items):
            result = reference_score(
                self.target.model, item, max_length=max_length, token_logprobs=token_logprobs
            )
            out.append(result)
            tokens += len(item.prefix_ids) + len(item.response_ids)
            if on_batch is not None:
                on_batch({i: result})
            if on_progress is not None:
                on_progress(i + 1, len(items), tokens)
        return out

    def generate(
        self,
        prompts: Sequence[Sequence[int]],
        *,
        max_new_tokens: int,
        adapter: Path | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        on_answer: Callable[[int, str], None] | None = None,
        **_: Any,
    ) -> list[str]:
        if adapter is not None:
            raise BackendCapabilityError("the reference backend serves no adapters")
        tok, texts = self.target.tokenizer, []
        for i, prompt in enumerate(prompts):
            ids = torch.tensor([list(prompt)])
            with torch.no_grad():
                out = self.target.model.generate(
                    ids,
                    attention_mask=torch.ones_like(ids),
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=tok.pad_token_id,
                    eos_token_id=stop_ids(self.target.model, tok),
                )
            text = tok.decode(out[0, ids.shape[1] :], skip_special_tokens=True).strip()
            texts.append(text)
            if on_answer is not None:
                on_answer(i, text)
            if on_progress is not None:
                on_progress(i + 1, len(prompts))
        return texts

    def train_adapter(self, *args: Any, **kwargs: Any) -> Any:  # any call: it cannot train
        raise BackendCapabilityError("the reference backend cannot train")


LOADED: dict[str, Target] = {}  # what the tests put up for load_backend to find


def load_reference(model: str, **_: Any) -> ReferenceBackend:
    return ReferenceBackend(LOADED[model])
