"""The registry of model backends: what runs the target for scoring, generation, training
and evaluation (importable without torch; each entry names its worker-side loader).

In the style of ``app.jobs.kinds`` and ``app.metrics.registry``: a spec names its backend
(``ScanSpec.backend``, ``ValidationSpec.backend``, ``OwnAnswersSpec.backend``), a worker
loads it through the dotted path, and every stored value records which backend made it (its
name and version are part of the score and text cache keys, so caches never mix backends).
A new backend is one class implementing ``workers.backends.base.ModelBackend`` and one entry
here; it must pass tests/backends/test_contract.py and test_train_evaluate.py (same numbers
on the same items, progress, cancel; same evaluation; training or a refusal to train).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

DEFAULT_BACKEND = "transformers"
IMPLICIT_TAG = "transformers@1"  # the backend of settings keys stored before backends existed


@dataclass(frozen=True)
class BackendKind:
    name: str
    version: str  # bump when a change alters its numbers: cached values stop matching
    loader: str  # "module:function(model, *, cache_dir, dtype, device) -> ModelBackend"
    description: str
    trains: bool = False  # LoRA fine-tuning (validations)

    @property
    def tag(self) -> str:
        """What stored values and cache keys record: name and version."""
        return f"{self.name}@{self.version}"


class UnknownBackendError(ValueError):
    """No backend of that name."""


_BACKENDS: dict[str, BackendKind] = {
    k.name: k
    for k in (
        BackendKind(
            "transformers",
            "1",
            "workers.backends.transformers:load_transformers",
            "In-process transformers + torch (the embedded default): batched scoring with "
            "shared prefixes, batched greedy generation, LoRA training with peft.",
            trains=True,
        ),
        BackendKind(
            "vllm",
            "1",
            "workers.backends.server:load_server",
            "An inference server (vLLM, OpenAI-compatible HTTP) at INFERENCE_URL, or one the "
            "worker starts and manages when it is unset: scores from "
            "prompt log-probs of Familiar's token ids, greedy generation (LoRA adapters loaded "
            "into the server at run time); training runs in the worker with transformers.",
            trains=True,
        ),
    )
}


def backend_names() -> tuple[str, ...]:
    return tuple(_BACKENDS)


def get_backend_kind(name: str) -> BackendKind:
    """The backend called ``name``; on a typo the error suggests the closest one."""
    if name in _BACKENDS:
        return _BACKENDS[name]
    close = difflib.get_close_matches(name, list(_BACKENDS), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise UnknownBackendError(f"unknown backend {name!r}{hint} (one of {', '.join(_BACKENDS)})")


def settings_key_suffix(tag: str) -> str:
    """What a stored own-answers settings key appends for the backend that generated them:
    nothing for ``IMPLICIT_TAG`` (rows stored before backends could be chosen keep their
    keys), ``|tag`` for any other, so two backends' answers never replace each other."""
    return "" if tag == IMPLICIT_TAG else f"|{tag}"


@contextmanager
def registered_backend(kind: BackendKind) -> Iterator[BackendKind]:
    """Add a backend for the length of a block (tests, plug-ins)."""
    if kind.name in _BACKENDS:
        raise ValueError(f"backend {kind.name!r} is already registered")
    _BACKENDS[kind.name] = kind
    try:
        yield kind
    finally:
        _BACKENDS.pop(kind.name, None)
