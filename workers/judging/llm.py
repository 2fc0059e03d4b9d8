"""The LLM judge: a local instruct model reads each answer in two steps (the research's
procedure for free-form answers).

Step 1: "what is the final answer predicted?" (the model extracts it); step 2: "is the
prediction correct? Yes or No" (the model compares it with the gold). Both replies are kept
as the reason. The model runs through ``generate``: a function from user texts to replies
(greedy, the model's chat template), so this core is tested without a model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from workers.judging.answer_types import detect_answer_type
from workers.judging.verdicts import Judgement

Generate = Callable[[list[str]], list[str]]
MAX_ANSWER_CHARS = 4000
EXTRACT_PROMPT = (
    "Here is a question and a response to it.\n\nQuestion: {question}\n\nResponse: {response}"
    "\n\nWhat is the final answer predicted in the response? Reply with the final answer only."
)
VERDICT_PROMPT = (
    "Question: {question}\n\nGold answer: {gold}\n\nPredicted answer: {predicted}\n\n"
    "Is the prediction correct? Reply with Yes or No."
)
YES_NO = re.compile(r"\b(yes|no)\b", re.IGNORECASE)


@dataclass(frozen=True)
class LlmItem:
    question: str
    response: str
    gold: str | None


def judge_with_llm(items: Sequence[LlmItem], generate: Generate, *, model: str) -> list[Judgement]:
    """Two-step LLM verdicts, one per item (no gold: no verdict, no model call)."""
    todo = [i for i, item in enumerate(items) if item.gold and item.gold.strip()]
    extracted = generate([_extract_prompt(items[i]) for i in todo]) if todo else []
    verdicts = (
        generate([_verdict_prompt(items[i], p) for i, p in zip(todo, extracted, strict=True)])
        if todo
        else []
    )
    out: list[Judgement] = [
        Judgement(detect_answer_type(it.question, it.gold), None, None, "no gold", "no gold")
        for it in items
    ]
    for i, predicted, reply in zip(todo, extracted, verdicts, strict=True):
        out[i] = _judgement(items[i], predicted, reply, model)
    return out


def _extract_prompt(item: LlmItem) -> str:
    response = item.response[-MAX_ANSWER_CHARS:]
    return EXTRACT_PROMPT.format(question=item.question, response=response)


def _verdict_prompt(item: LlmItem, predicted: str) -> str:
    return VERDICT_PROMPT.format(question=item.question, gold=item.gold, predicted=predicted)


def parse_yes_no(reply: str) -> bool | None:
    """The first Yes/No of the reply; None when it says neither."""
    m = YES_NO.search(reply or "")
    return None if m is None else m.group(1).lower() == "yes"


def _judgement(item: LlmItem, predicted: str, reply: str, model: str) -> Judgement:
    verdict = parse_yes_no(reply)
    reason = f"predicted: {predicted.strip()[:200]!r}; judged: {reply.strip()[:200]!r}"
    if verdict is None:
        reason += " (neither Yes nor No: counted wrong)"
    details = {"model": model, "step1": predicted[:1000], "step2": reply[:1000]}
    answer_type = detect_answer_type(item.question, item.gold)
    return Judgement(answer_type, predicted.strip()[:500], bool(verdict), "llm", reason, details)


def model_generate(target: object, *, max_new_tokens: int = 48) -> Generate:
    """``generate`` for a model backend (``workers.backends``; a loaded target is wrapped):
    chat template, greedy, batched by length."""
    from workers.backends.transformers import as_backend
    from workers.scoring.prompts import PromptBuilder

    backend = as_backend(target)
    builder = PromptBuilder(backend.tokenizer)

    def generate(texts: list[str]) -> list[str]:
        prompts = [builder.prompt_ids(builder.wrap(t)) for t in texts]
        return list(backend.generate(prompts, max_new_tokens=max_new_tokens))

    return generate
