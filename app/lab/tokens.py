"""Token counts for cost estimates: the teacher's own tokenizer where we have it, else a
stated approximation.

Where known: a ``tokenizer.json`` named on the teacher (``tokenizer_path``: the file or its
folder), or, for the target teacher, the target's (a local model folder, or the converted
packaged model in MODEL_CACHE). It is read with the ``tokenizers`` library (no torch).
Where the folder also holds the model's chat template (chat_template.jinja or
tokenizer_config.json), the prompt is rendered with it as the server will (a default
system message included) and counted whole; else chat formatting is counted as
``PER_MESSAGE`` tokens per message.
Otherwise: characters / 4, rounded up, the usual rule of thumb for English text with
GPT-style tokenizers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from app.config import get_settings
from app.models import LabTeacher

PER_MESSAGE = 4
APPROXIMATION = "approximation: characters / 4"


@lru_cache(maxsize=8)
def _tokenizer(path: str):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer

    return Tokenizer.from_file(path)


def _tokenizer_file(teacher: LabTeacher) -> Path | None:
    candidates = []
    if teacher.tokenizer_path:
        candidates.append(Path(teacher.tokenizer_path))
    if teacher.kind == "target":
        candidates += _target_candidates(teacher.model)
    for path in candidates:
        path = path / "tokenizer.json" if path.is_dir() else path
        if path.is_file():
            return path
    return None


def _target_candidates(model: str) -> list[Path]:
    if model.startswith("packaged:"):
        base = get_settings().models_dir / "packaged"
        return sorted(base.glob(f"{model.removeprefix('packaged:')}-*"), reverse=True)
    return [Path(model)]


@lru_cache(maxsize=8)
def _chat_template(folder: str):  # type: ignore[no-untyped-def]
    """The model's chat template (in tokenizer_config.json or chat_template.jinja),
    compiled the way transformers does (an immutable sandbox), or None."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    try:
        config = json.loads((Path(folder) / "tokenizer_config.json").read_text())
    except (OSError, ValueError):
        config = {}
    text = config.get("chat_template")
    if not isinstance(text, str):  # newer transformers save it as a file of its own
        try:
            text = (Path(folder) / "chat_template.jinja").read_text()
        except OSError:
            return None
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(text), config


def counter_for(teacher: LabTeacher) -> tuple[Callable[[list[dict[str, str]]], int], str]:
    """(count the prompt tokens of chat messages, how they are counted)."""
    path = _tokenizer_file(teacher)
    if path is not None:
        try:
            tok = _tokenizer(str(path))
        except Exception:  # noqa: BLE001 - an unreadable file falls back to the approximation
            tok = None
        if tok is not None:
            return _counter(tok, _chat_template(str(path.parent)), path)
    return approximate, APPROXIMATION


def _counter(tok, chat, path: Path):  # type: ignore[no-untyped-def]
    if chat is not None:
        template, config = chat

        def count_chat(messages: list[dict[str, str]]) -> int:
            text = template.render(
                messages=messages,
                add_generation_prompt=True,
                bos_token=_token_text(config.get("bos_token")),
                eos_token=_token_text(config.get("eos_token")),
            )
            return len(tok.encode(text, add_special_tokens=False).ids)

        return count_chat, f"tokenizer and chat template of {path.parent}"

    def count(messages: list[dict[str, str]]) -> int:
        texts = [m["content"] for m in messages]
        return sum(len(e.ids) for e in tok.encode_batch(texts)) + PER_MESSAGE * len(texts)

    return count, f"tokenizer {path} (+{PER_MESSAGE} per message for the chat format)"


def _token_text(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("content", ""))
    return value if isinstance(value, str) else ""


def approximate(messages: list[dict[str, str]]) -> int:
    return sum(math.ceil(len(m["content"]) / 4) + PER_MESSAGE for m in messages)
