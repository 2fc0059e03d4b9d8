"""Training examples as token ids: the chat-template prompt (no loss) + response + end-of-turn.

Decisions (issue 12, shared with evaluation so both see the same prompt):
- The prompt is ``chat_prompt_text(tokenizer, question)`` (the target's chat template, the
  question as the user turn, the generation prompt added), encoded with
  ``prompts.encode`` exactly as scans and evaluation encode it; prompt and response are
  tokenised separately, so no token merges across the boundary.
- The target is the response's tokens followed by the chat template's end-of-assistant-turn
  token (``<|im_end|>`` for SmolLM2), so the tuned model learns to stop. That token is read
  off the template itself (what the template writes right after an assistant message), and
  falls back to the tokenizer's EOS where the template writes no special token there.
- Labels: -100 on every prompt token; the response tokens and the end-of-turn token carry
  the loss.
- Too long: the response is cut at its end to fit ``max_length`` and the end-of-turn token
  is then left out (a cut answer must not teach the model to stop mid-way); a prompt that
  leaves no room for a single response token is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workers.scoring.prompts import chat_prompt_text, encode
from workers.training.types import TrainingInputError

IGNORE = -100
_MARK = "FAMILIARRESPONSEMARK"


@dataclass(frozen=True)
class EncodedExample:
    input_ids: list[int]
    labels: list[int]
    truncated: bool

    @property
    def length(self) -> int:
        return len(self.input_ids)


def end_of_turn_id(tokenizer: Any) -> int:
    """The token the chat template writes right after an assistant message (else EOS)."""
    messages = [{"role": "user", "content": "q"}, {"role": "assistant", "content": _MARK}]
    try:
        text = tokenizer.apply_chat_template(messages, tokenize=False)
    except Exception:  # noqa: BLE001 - a template that cannot render an assistant turn
        text = ""
    if _MARK in text:
        after = encode(tokenizer, text.split(_MARK, 1)[1])
        special = set(getattr(tokenizer, "all_special_ids", ()) or ())
        added = getattr(tokenizer, "added_tokens_decoder", {}) or {}
        special |= {i for i, t in added.items() if getattr(t, "special", False)}
        if after and after[0] in special:
            return after[0]
    if getattr(tokenizer, "eos_token_id", None) is not None:
        return int(tokenizer.eos_token_id)
    raise TrainingInputError(
        "the tokenizer has no end-of-turn or EOS token: the tuned model could not learn to stop"
    )


def encode_example(
    tokenizer: Any, question: str, response: str, max_length: int, *, eot: int | None = None
) -> EncodedExample:
    """Ids and labels of one example (see the module docstring)."""
    prompt = list(encode(tokenizer, chat_prompt_text(tokenizer, question)))
    target = list(encode(tokenizer, response)) + [end_of_turn_id(tokenizer) if eot is None else eot]
    room = max_length - len(prompt)
    if room < 1:
        raise TrainingInputError(
            f"the prompt has {len(prompt)} tokens, max_length is {max_length}: raise "
            "max_length or shorten the question"
        )
    truncated = len(target) > room
    if truncated:
        target = target[:room]  # the end-of-turn token is the last one, so it goes first
    return EncodedExample(prompt + target, [IGNORE] * len(prompt) + target, truncated)


def build_example(
    tokenizer: Any, question: str, response: str, max_length: int
) -> tuple[list[int], list[int]]:
    """``(input_ids, labels)`` of one training example; labels are -100 on the prompt."""
    ex = encode_example(tokenizer, question, response, max_length)
    return ex.input_ids, ex.labels


def linear_module_names(model: Any) -> list[str]:
    """The distinct last-name parts of the model's linear layers (what LoRA can target)."""
    import torch

    names: set[str] = set()
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) or type(module).__name__ == "Conv1D":
            names.add(name.rsplit(".", 1)[-1])
    return sorted(names)


def check_lora_targets(model: Any, target_modules: Sequence[str]) -> None:
    """Raise ``TrainingInputError`` unless every name in ``target_modules`` is a linear
    layer of ``model``; the message lists the names the model has."""
    have = linear_module_names(model)
    missing = [m for m in target_modules if m not in have]
    if missing:
        raise TrainingInputError(
            f"target_modules: the model has no linear module named "
            f"{', '.join(repr(m) for m in missing)}; its linear modules are: {', '.join(have)}"
        )
