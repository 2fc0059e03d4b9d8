"""The training loss with the LM head applied to the response positions only.

The prompt's positions carry no loss, so their logits are never needed: the decoder's
hidden states are gathered at the positions whose next token is labelled, and only those
go through the LM head and a float32 log-softmax (the design's "only the response
positions through the LM head"; on GSM8K about 40% of the positions are prompt). The sum
of token NLLs is divided by ``num_items_in_batch`` (the labelled tokens of the whole
optimizer step, as the Trainer counts them), exactly what the model's own loss does.

Used only for model types whose logits are a plain ``lm_head(hidden)`` (no soft-capping,
no logit scale); any other model gets its own forward and loss.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

PLAIN_HEAD_TYPES = {"llama", "mistral", "qwen2", "qwen3", "phi3", "granite", "olmo2"}


def supports_response_head(model: Any) -> bool:
    config = getattr(model, "config", None)
    if getattr(config, "model_type", None) not in PLAIN_HEAD_TYPES:
        return False
    if getattr(config, "final_logit_softcapping", None) or getattr(config, "logit_scale", None):
        return False
    return model.get_output_embeddings() is not None


def response_head_loss(model: Any, inputs: dict[str, torch.Tensor], num_items: Any) -> torch.Tensor:
    """Sum of response-token NLLs / ``num_items`` (the mean when ``num_items`` is None)."""
    labels = inputs["labels"][:, 1:]
    keep = labels != -100
    hidden = model.get_decoder()(
        input_ids=inputs["input_ids"],
        attention_mask=inputs.get("attention_mask"),
        use_cache=False,
    ).last_hidden_state[:, :-1]
    logits = model.get_output_embeddings()(hidden[keep]).float()
    total = F.cross_entropy(logits, labels[keep], reduction="sum")
    count = num_items if num_items is not None else keep.sum()
    if isinstance(count, torch.Tensor):
        count = count.to(total.device)
    return total / count
