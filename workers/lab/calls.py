"""One teacher request through the official ``openai`` client, with our own retries.

The client's built-in retries (``max_retries``) are switched off and the loop is written
here because every failed attempt must be recorded with its kind (the lab page names each
fault) and a 429's Retry-After must be honoured exactly; the client would retry silently.
The backoff is exponential (base x 2^attempt, capped) with jitter; a Retry-After (seconds)
from the server replaces it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import openai
from openai import AsyncOpenAI

from app.lab.types import Answer, Fault, LabRequest, flags_for

MAX_BACKOFF_S = 30.0


def classify(exc: BaseException) -> tuple[str, bool, float | None]:
    """(fault kind, retry?, Retry-After seconds) for an exception of one attempt."""
    if isinstance(exc, openai.APITimeoutError):
        return "timeout", True, None
    if isinstance(exc, openai.APIConnectionError):
        return "connection", True, None
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status == 429:
            return "rate_limited", True, _retry_after(exc)
        if status >= 500:
            return "server_error", True, _retry_after(exc)
        return "client_error", False, None
    return "malformed", True, None


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after") if exc.response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _detail(exc: BaseException, api_key: str) -> str:
    """A short, key-free description of what went wrong."""
    text = f"{type(exc).__name__}: {exc}"[:300]
    return text.replace(api_key, "***") if api_key else text


def _answer(req: LabRequest, completion: object) -> Answer:
    """The answer in a completion; ValueError when the body is not a usable completion."""
    from app.lab.prompts import postprocess

    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise ValueError("the body has no choices")
    choice = choices[0]
    raw = getattr(getattr(choice, "message", None), "content", None)
    if raw is not None and not isinstance(raw, str):
        raise ValueError("the answer's content is not text")
    raw = raw or ""
    usage = getattr(completion, "usage", None)
    prompt = int(getattr(usage, "prompt_tokens", 0) or 0) if usage else req.prompt_tokens_estimate
    done = int(getattr(usage, "completion_tokens", 0) or 0) if usage else len(raw) // 4
    text = postprocess(raw, strip_prefix=req.strip_prefix, stop_marker=req.stop_marker)
    reason = getattr(choice, "finish_reason", None)
    return Answer(
        raw, text, reason, prompt, done, req.price.cost(prompt, done), flags_for(text, reason)
    )


async def call_once(client: AsyncOpenAI, req: LabRequest) -> Answer:
    completion = await client.chat.completions.create(
        model=req.endpoint.model,
        messages=req.messages,  # type: ignore[arg-type]
        temperature=req.params.temperature,
        top_p=req.params.top_p,
        max_tokens=req.params.max_tokens,
    )
    return _answer(req, completion)


async def call_with_retries(
    client: AsyncOpenAI,
    req: LabRequest,
    *,
    max_retries: int,
    backoff_s: float,
    on_fault: Callable[[Fault], Awaitable[None]],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Answer | None:
    """The answer, or None once ``max_retries`` retries failed (a ``gave_up`` fault)."""
    for attempt in range(1, max_retries + 2):
        try:
            return await call_once(client, req)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is classified and recorded
            kind, retry, after = classify(exc)
            extra = {"retry_after_s": after} if after is not None else {}
            await on_fault(Fault(kind, attempt, _detail(exc, req.endpoint.api_key), extra))
            if not retry or attempt > max_retries:
                break
            wait = after if after is not None else _backoff(backoff_s, attempt)
            await sleep(wait)
    await on_fault(Fault("gave_up", attempt, f"no answer after {attempt} attempts"))
    return None


def _backoff(base: float, attempt: int) -> float:
    return min(MAX_BACKOFF_S, base * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
