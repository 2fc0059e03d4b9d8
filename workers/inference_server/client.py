"""A small client for an OpenAI-compatible inference server (vLLM): the calls Familiar makes.

Why httpx and not the ``openai`` client: what Familiar needs is mostly outside the OpenAI API
(vLLM's ``prompt_logprobs`` and ``return_token_ids`` on ``/v1/completions``, ``/tokenize``,
``/v1/load_lora_adapter``), which the openai client would pass through untyped
(``extra_body``) anyway; httpx (which the openai client is built on) is already a dependency,
is thread-safe with one connection pool, and keeps the errors plain.

Every failure is an ``InferenceServerError`` naming the server's URL and what went wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from workers.modeling.errors import ModelLoadError


class InferenceServerError(ModelLoadError):
    """The inference server is unreachable, slow, wrong for the target, or failed a request.

    A ``ModelLoadError``: jobs already turn those into a visible job failure."""


class ServerClient:
    """Requests to one server (``base_url`` without ``/v1``) for one served model name."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 600.0,
        connections: int = 64,
    ) -> None:
        self.base_url = base_url.rstrip("/").removesuffix("/v1")
        self.model = model
        self._options = {"api_key": api_key, "timeout_s": timeout_s, "connections": connections}
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout_s, limits=limits
        )

    def close(self) -> None:
        self._http.close()

    def moved_to(self, base_url: str) -> ServerClient:
        """The same model, key and limits at another address (a managed server that was
        started again listens on a new port); this client is closed."""
        self.close()
        return ServerClient(base_url, self.model, **self._options)  # type: ignore[arg-type]

    def _call(self, method: str, path: str, json: dict[str, Any] | None = None) -> Any:
        where = f"inference server {self.base_url}"
        try:
            response = self._http.request(method, path, json=json)
        except httpx.TimeoutException:
            raise InferenceServerError(f"{where}: no answer to {path} in time") from None
        except httpx.HTTPError as exc:
            raise InferenceServerError(f"{where} is unreachable ({exc})") from None
        if response.status_code in (401, 403):
            raise InferenceServerError(f"{where} refused the key (INFERENCE_API_KEY)")
        if response.status_code >= 400:
            raise InferenceServerError(
                f"{where}: {path} answered {response.status_code}: {response.text[:300]}"
            )
        try:
            return response.json()
        except ValueError:
            raise InferenceServerError(f"{where}: {path} did not answer JSON") from None

    def models(self) -> list[dict[str, Any]]:
        """The served models (``/v1/models``), each with its ``id`` (and vLLM's max_model_len)."""
        return list(self._call("GET", "/v1/models").get("data") or [])

    def tokenize(self, text: str) -> list[int]:
        """vLLM's own token ids of ``text`` (no special tokens added)."""
        body = {"model": self.model, "prompt": text, "add_special_tokens": False}
        return list(self._call("POST", "/tokenize", body).get("tokens") or [])

    def prompt_logprobs(self, ids: Sequence[int], *, model: str | None = None) -> list[Any]:
        """Per position of ``ids``, the server's log-prob entries of the prompt (None first)."""
        body = {
            "model": model or self.model,
            "prompt": list(ids),
            "max_tokens": 1,
            "temperature": 0.0,
            "prompt_logprobs": 0,
        }
        choice = self._first_choice(self._call("POST", "/v1/completions", body))
        return list(choice.get("prompt_logprobs") or [])

    def complete_greedy(
        self,
        ids: Sequence[int],
        *,
        max_tokens: int,
        stop_token_ids: Sequence[int],
        model: str | None = None,
    ) -> tuple[str, list[int] | None]:
        """The greedy continuation of ``ids``: its text and, where the server returns them,
        its token ids (vLLM's ``return_token_ids``)."""
        body = {
            "model": model or self.model,
            "prompt": list(ids),
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "stop_token_ids": list(stop_token_ids),
            "return_token_ids": True,
        }
        choice = self._first_choice(self._call("POST", "/v1/completions", body))
        return str(choice.get("text") or ""), choice.get("token_ids")

    def load_lora_adapter(self, name: str, path: str) -> None:
        """Make the adapter folder ``path`` servable as model ``name`` (vLLM's
        ``--enable-lora`` with ``VLLM_ALLOW_RUNTIME_LORA_UPDATING``)."""
        try:
            self._http_post_text("/v1/load_lora_adapter", {"lora_name": name, "lora_path": path})
        except InferenceServerError as exc:
            if "already been loaded" in str(exc):
                return
            raise InferenceServerError(
                f"{exc}. Serving adapters needs vLLM started with --enable-lora (and "
                "--max-lora-rank at least the adapter's rank) and "
                "VLLM_ALLOW_RUNTIME_LORA_UPDATING=True"
            ) from None

    def _http_post_text(self, path: str, body: dict[str, Any]) -> None:
        where = f"inference server {self.base_url}"
        try:
            response = self._http.post(path, json=body)
        except httpx.HTTPError as exc:
            raise InferenceServerError(f"{where} is unreachable ({exc})") from None
        if response.status_code >= 400:
            raise InferenceServerError(
                f"{where}: {path} answered {response.status_code}: {response.text[:300]}"
            )

    def _first_choice(self, answer: Any) -> dict[str, Any]:
        choices = answer.get("choices") if isinstance(answer, dict) else None
        if not choices:
            raise InferenceServerError(
                f"inference server {self.base_url}: an answer without choices"
            )
        return dict(choices[0])
