"""What the server backend checks before any model work, each failure a clear error naming
the server: reachable (and the key accepted), serving the target under the expected name,
returning prompt log-probs, and tokenizing exactly as the target's own tokenizer does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workers.inference_server.client import InferenceServerError, ServerClient

PROBE = "Familiar checks the tokenizer: 17 × 23 = 391, naïve café <tags> \n\tend."


@dataclass(frozen=True)
class ServerFacts:
    """What the checks learned: the longest sequence the server accepts."""

    max_model_len: int | None


def check_server(client: ServerClient, tokenizer: Any) -> ServerFacts:
    """Raise ``InferenceServerError`` unless the server can score and generate for this
    target; the cheap checks first, one short scoring request last."""
    where = f"inference server {client.base_url}"
    served = client.models()  # unreachable / refused key raise here
    card = next((m for m in served if m.get("id") == client.model), None)
    if card is None:
        names = ", ".join(repr(m.get("id")) for m in served) or "none"
        raise InferenceServerError(
            f"{where} does not serve {client.model!r} (it serves {names}); set INFERENCE_MODEL "
            "to the name it serves the target under (vLLM's --served-model-name)"
        )
    ours = list(tokenizer.encode(PROBE, add_special_tokens=False))
    theirs = client.tokenize(PROBE)
    if theirs != ours:
        raise InferenceServerError(
            f"{where} tokenizes differently from the target's tokenizer "
            f"({len(theirs)} vs {len(ours)} ids for a probe text): it serves another model "
            "or another tokenizer"
        )
    entries = client.prompt_logprobs(ours)
    if len(entries) != len(ours) or not isinstance(entries[-1], dict):
        raise InferenceServerError(
            f"{where} returns no prompt log-probs (`prompt_logprobs` on /v1/completions); "
            "Familiar scores with them (vLLM serves them; check the server's version and "
            "--max-logprobs)"
        )
    length = card.get("max_model_len")
    return ServerFacts(max_model_len=int(length) if isinstance(length, int) else None)
