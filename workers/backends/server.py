"""The inference-server backend (``vllm`` in ``app.backends``): the target runs in a vLLM
server (OpenAI-compatible HTTP) that a team already runs, or that a worker manages.

Familiar keeps the target's tokenizer here and builds every prompt with it
(``workers.scoring.prompts``), then sends TOKEN IDS, never text, so tokenization cannot
drift: scores come from ``prompt_logprobs`` of the exact ids the transformers backend would
score (``workers.inference_server.requests``), greedy answers from completions of the exact
prompt ids, decoded here. Before any model work the server is checked
(``workers.inference_server.checks``): reachable, serving the target, returning prompt
log-probs, tokenizing as the target does.

Training: a server cannot train. This backend trains in the worker's process through the
transformers backend (the target loaded lazily, only when a validation trains), then
evaluates through the server with the trained adapter loaded into it at run time (vLLM's
``--enable-lora`` with ``VLLM_ALLOW_RUNTIME_LORA_UPDATING``): evaluation, the slow part of a
validation, runs on the server, and a validation can name this backend. The adapter folder
must be readable by the server at the same path (one host, or a shared artifact store).
On a GPU the in-process model and vLLM's memory reservation compete: give vLLM a
``--gpu-memory-utilization`` that leaves room, or stop a managed server before training.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.backends import get_backend_kind
from app.config import get_settings
from workers.inference_server.checks import ServerFacts, check_server
from workers.inference_server.client import InferenceServerError, ServerClient
from workers.inference_server.launch import ServerKey
from workers.inference_server.managed import get_pool, server_key
from workers.inference_server.requests import generate_on_server, score_on_server
from workers.modeling.errors import ModelLoadError
from workers.modeling.sources import ModelSource, resolve_source
from workers.scoring.items import ScoreItem, ScoreResult


@dataclass
class ServerBackend:
    """A target served by an inference server, with its tokenizer held here."""

    client: ServerClient
    source: ModelSource
    tokenizer: Any
    dtype: str
    facts: ServerFacts
    cache_dir: Path
    concurrency: int = 64
    kind: str = "vllm"
    config: dict[str, Any] = field(default_factory=dict)
    stop_token_ids: list[int] = field(default_factory=list)
    managed: ServerKey | None = None  # a server this worker starts (no INFERENCE_URL)
    _trainer: Any = None

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def model_key(self) -> str:
        """The weights' key, then what serves them: ``<weights>|vllm:<dtype>`` (a prefix
        match on the weights finds it, and two server dtypes never share a key)."""
        return f"{self.source.model_key}|{self.kind}:{self.dtype}"

    @property
    def device(self) -> str:
        return f"server {self.client.base_url}"

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    @property
    def version(self) -> str:
        return get_backend_kind(self.kind).version

    @property
    def tag(self) -> str:
        return f"{self.kind}@{self.version}"

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model_key": self.model_key,
            "source": self.source.kind,
            "revision": self.source.revision,
            "dtype": self.dtype,
            "device": self.device,
            "n_params": None,
            "architecture": (self.config.get("architectures") or [None])[0],
            "vocab_size": self.config.get("vocab_size"),
            "max_positions": self._positions(),
            "has_chat_template": self.has_chat_template,
            "backend": self.tag,
            "server": {"url": self.client.base_url, "model": self.client.model},
        }

    def _positions(self) -> int | None:
        value = self.config.get("max_position_embeddings") or self.config.get("n_positions")
        return int(value) if isinstance(value, int) and value > 0 else None

    def max_length(self, requested: int | None) -> int:
        """``requested`` capped by the model's positions and by what the server accepts
        (its max_model_len, less the one token a completion must generate)."""
        limits = [v for v in (requested, self._positions()) if v]
        if self.facts.max_model_len:
            limits.append(self.facts.max_model_len - 1)
        return min(limits) if limits else 1 << 30

    @contextmanager
    def _serving(self) -> Iterator[ServerClient]:
        """The client, for one call. A managed server is held for the call (never stopped
        as idle while in use) and started again if it died or was stopped since; the
        client follows it to its new port."""
        if self.managed is None:
            yield self.client
            return
        with get_pool().acquire(self.managed) as server:
            if self.client.base_url != server.base_url.removesuffix("/v1"):
                self.client = self.client.moved_to(server.base_url)
            yield self.client

    def score(
        self,
        items: Sequence[ScoreItem],
        *,
        max_length: int | None = None,
        token_budget: int | None = None,  # the server batches; no budget here
        token_logprobs: bool = False,
        on_progress: Any = None,
        on_batch: Any = None,
    ) -> list[ScoreResult]:
        with self._serving() as client:
            return score_on_server(
                client,
                items,
                self.max_length(max_length),
                concurrency=self.concurrency,
                token_logprobs=token_logprobs,
                on_progress=on_progress,
                on_batch=on_batch,
            )

    def generate(
        self,
        prompts: Sequence[Sequence[int]],
        *,
        max_new_tokens: int,
        adapter: Path | None = None,
        token_budget: int = 32768,
        on_progress: Any = None,
        on_answer: Any = None,
        on_eta: Any = None,
        on_tokens: Any = None,
        **_: Any,  # on_expected and other decoder-clock reports: the server gives none
    ) -> list[str]:
        """Greedy answers; through ``adapter`` (a peft folder) loaded into the server."""
        with self._serving() as client:
            model = self._served_adapter(Path(adapter)) if adapter is not None else None
            return generate_on_server(
                client,
                self.tokenizer,
                prompts,
                max_new_tokens=max_new_tokens,
                max_model_len=self.facts.max_model_len or (1 << 30),
                stop_token_ids=self.stop_token_ids,
                concurrency=self.concurrency,
                model=model,
                on_progress=on_progress,
                on_answer=on_answer,
                on_tokens=on_tokens,
            )

    def _served_adapter(self, adapter: Path) -> str:
        weights = adapter / "adapter_model.safetensors"
        if not weights.is_file():
            raise InferenceServerError(f"adapter {adapter} has no adapter_model.safetensors")
        name = "familiar-" + hashlib.sha256(weights.read_bytes()).hexdigest()[:16]
        self.client.load_lora_adapter(name, str(adapter.resolve()))
        return name

    def close(self) -> None:
        """Close the HTTP client (its pooled connections); a managed server stays up for
        the next job (the pool stops it when idle)."""
        self.client.close()

    def train_adapter(self, *args: Any, **kwargs: Any) -> Any:
        """Training runs here, through the transformers backend (module docstring)."""
        return self._local_trainer().train_adapter(*args, **kwargs)

    def _local_trainer(self) -> Any:
        if self._trainer is None:
            from workers.backends.transformers import load_transformers

            self._trainer = load_transformers(self.name, cache_dir=self.cache_dir, dtype="auto")
        return self._trainer


def load_server(model: str, *, cache_dir: Path, dtype: str = "auto", device: str = "auto") -> Any:
    """The target ``model`` served by the server at ``INFERENCE_URL`` (external) or, with
    no URL set, by a vLLM server this worker starts, reuses and stops (managed:
    ``workers.inference_server.managed``), checked before any model work."""
    settings = get_settings()
    source = resolve_source(model, Path(cache_dir))
    tokenizer, config, stops = _local_parts(source)
    key = settings.inference_api_key.get_secret_value() if settings.inference_api_key else None
    managed: ServerKey | None = None
    if settings.inference_url:
        if dtype not in ("auto", settings.inference_dtype):
            raise ModelLoadError(
                f"dtype: the job asks for {dtype}, the inference server "
                f"{settings.inference_url} runs the target in {settings.inference_dtype} "
                "(INFERENCE_DTYPE)"
            )
        url, served, run_dtype = settings.inference_url, settings.inference_model or model, None
    else:
        run_dtype = _managed_dtype(dtype, settings.inference_dtype)
        managed = _managed_key(model, source, run_dtype, settings.vllm_python)
        with get_pool().acquire(managed) as server:
            url, served = server.base_url, model
    client = ServerClient(
        url,
        served,
        api_key=key,
        timeout_s=settings.inference_timeout_s,
        connections=settings.inference_concurrency,
    )
    backend = ServerBackend(
        client,
        source,
        tokenizer,
        run_dtype or settings.inference_dtype,
        ServerFacts(None),
        Path(cache_dir),
        concurrency=settings.inference_concurrency,
        config=config,
        stop_token_ids=stops,
        managed=managed,
    )
    try:
        with backend._serving() as serving:
            backend.facts = check_server(serving, tokenizer)
    except BaseException:
        backend.client.close()  # a refused server leaves no open connections behind
        raise
    return backend


def _managed_dtype(dtype: str, configured: str) -> str:
    """A managed server runs the job's dtype; ``auto`` is INFERENCE_DTYPE."""
    if dtype == "auto":
        return configured
    if dtype not in ("bfloat16", "float32"):
        raise ModelLoadError(f"dtype: a managed vLLM server runs bfloat16 or float32, not {dtype}")
    return dtype


def _managed_key(model: str, source: ModelSource, dtype: str, python: Path) -> ServerKey:
    if not Path(python).exists():
        raise ModelLoadError(
            "the vllm backend needs INFERENCE_URL (a server a team runs) or vLLM at "
            f"VLLM_PYTHON={python} for a server this worker starts (`make vllm-setup`)"
        )
    return server_key(str(source.folder), served_name=model, dtype=dtype)


def _local_parts(source: ModelSource) -> tuple[Any, dict[str, Any], list[int]]:
    """The target's tokenizer, config and stop ids, read from its folder (no weights)."""
    from transformers import AutoTokenizer, GenerationConfig

    try:
        tokenizer = AutoTokenizer.from_pretrained(source.folder, local_files_only=True)
        config = json.loads((source.folder / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"could not load the tokenizer of {source.name!r}: {exc}") from None
    stops: set[int] = set()
    try:
        eos = GenerationConfig.from_pretrained(source.folder).eos_token_id
    except OSError:
        eos = None
    stops.update([eos] if isinstance(eos, int) else (eos or []))
    if tokenizer.eos_token_id is not None:
        stops.add(tokenizer.eos_token_id)
    return tokenizer, config, sorted(stops)
