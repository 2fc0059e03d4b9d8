"""The target as its own teacher, without a server: the worker's model answers the lab's
requests (the target teacher with no base URL, ``app.lab.teachers.LOCAL_URL``).

The same model backend the scans use (``workers.backends``) generates greedily from the
recipe's chat messages put through the target's chat template; each answer is handed over
the moment it ends, so a cancelled or killed job keeps what was finished and a resumed one
reuses it through the lab's cache. Tokens are the model's own counts (prompt and new
tokens), the cost is the price table's entry for the target (none unless a user set one),
and an answer that ran to ``max_tokens`` finishes with "length" (flagged truncated), as a
server would say.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app.lab.prompts import postprocess
from app.lab.types import Answer, LabRequest, flags_for


class LocalTeacherError(RuntimeError):
    """The target cannot answer here (it does not load, or has no chat template)."""


class LocalStopped(Exception):
    """Raised inside generation when the run was asked to stop (a cancel, the budget)."""


Deliver = Callable[[LabRequest, Answer], None]


class LocalTeacher:
    """Loads the target once (on the first request) and answers batches of requests."""

    def __init__(self, *, cache_dir: Path, backend: str | None = None) -> None:
        self.cache_dir, self.backend_kind = cache_dir, backend
        self._backends: dict[str, Any] = {}

    def backend(self, model: str) -> Any:
        if model not in self._backends:
            from app.backends import DEFAULT_BACKEND
            from workers.backends import load_backend
            from workers.modeling import ModelLoadError

            try:
                self._backends[model] = load_backend(
                    self.backend_kind or DEFAULT_BACKEND, model, cache_dir=self.cache_dir
                )
            except ModelLoadError as exc:
                msg = f"the target teacher ({model}) did not load: {exc}"
                raise LocalTeacherError(msg) from exc
        return self._backends[model]

    def answer(
        self, requests: Sequence[LabRequest], deliver: Deliver, check: Callable[[], None]
    ) -> None:
        """Answer ``requests``, calling ``deliver`` for each as it ends; ``check`` is called
        at every decoding step and raises (``LocalStopped``) to stop."""
        groups: dict[tuple[str, int], list[LabRequest]] = defaultdict(list)
        for req in requests:  # one generate call per model and max_tokens
            groups[(req.endpoint.model, req.params.max_tokens)].append(req)
        for (model, max_tokens), reqs in groups.items():
            check()
            self._generate(self.backend(model), reqs, max_tokens, deliver, check)

    def _generate(
        self,
        backend: Any,
        reqs: list[LabRequest],
        max_tokens: int,
        deliver: Deliver,
        check: Callable[[], None],
    ) -> None:
        prompts = [prompt_ids(backend.tokenizer, req.messages) for req in reqs]
        new_tokens: dict[int, int] = {}

        def on_tokens(index: int, n: int) -> None:
            new_tokens[index] = n

        def on_answer(index: int, raw: str) -> None:
            req = reqs[index]
            done = new_tokens.get(index, 0)
            reason = "length" if done >= max_tokens else "stop"
            text = postprocess(raw, strip_prefix=req.strip_prefix, stop_marker=req.stop_marker)
            cost = req.price.cost(len(prompts[index]), done)
            deliver(
                req,
                Answer(raw, text, reason, len(prompts[index]), done, cost, flags_for(text, reason)),
            )

        backend.generate(
            prompts,
            max_new_tokens=max_tokens,
            on_tokens=on_tokens,
            on_answer=on_answer,
            on_eta=lambda _seconds: check(),
        )


def prompt_ids(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    """The chat messages as the target's prompt (its chat template, generation prompt
    added), encoded as the scans encode a chat prompt (``workers.scoring.prompts``)."""
    from workers.scoring.prompts import encode, has_chat_template

    if not has_chat_template(tokenizer):
        raise LocalTeacherError(
            "the target's tokenizer has no chat template, so it cannot answer the recipe's "
            "messages; give the target teacher the URL of a server that serves it"
        )
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return list(encode(tokenizer, text))
