"""The playground job: one question answered by the untuned target and trained adapters.

Each model answers as a validation evaluates a test question (``workers.evaluation.run``):
the question's single user turn in the target's chat template (``prompt_ids``), greedy
through the backend's ``generate`` (with the run's LoRA adapter when it has one), at most
``max_new_tokens``; the answer's final answer is extracted with the spec's extractor and,
when the question has a gold, judged against it (``score_output``). An adapter answers on
the model, backend and precision its validation trained and evaluated with; models that
share these are loaded once. The answers are the job's result (``Job.result``), saved with
its success.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.artifacts import ArtifactError, artifact_store
from app.config import get_settings
from app.db import session_scope
from app.services.playground import answer_label, run_answerer
from app.specs.playground import PlaygroundSpec
from workers.jobs.context import JobContext, JobFailure

PHASE = "answering"


@dataclass(frozen=True)
class Answerer:
    """One model that answers: the untuned target (``run_id`` None) or a run's adapter."""

    label: str
    run_id: int | None
    model: str
    backend: str
    dtype: str
    adapter: str | None

    @property
    def loads(self) -> tuple[str, str, str]:
        return (self.model, self.backend, self.dtype)


def answerers(ctx: JobContext) -> list[Answerer]:
    """The untuned target first (when asked), then the runs in the order asked, each
    adapter as a local folder (downloaded from a remote artifact store, ``app.artifacts``,
    after the database session is closed)."""
    spec: PlaygroundSpec = ctx.spec
    found = []
    if spec.base:
        found.append(Answerer(answer_label(None), None, spec.model, spec.backend, spec.dtype, None))
    with session_scope() as session:
        runs = [run_answerer(session, project_id=ctx.project_id, run_id=r) for r in spec.run_ids]
    store = artifact_store() if runs else None
    for loaded in runs:
        if isinstance(loaded, str):
            raise JobFailure(loaded)
        try:
            folder = store.locate(loaded["adapter"])  # type: ignore[union-attr]
        except (ArtifactError, OSError) as exc:
            raise JobFailure(f"the adapter of {loaded['label']} is gone: {exc}") from exc
        found.append(Answerer(**{**loaded, "adapter": str(folder)}))
    return found


def answer_question(ctx: JobContext) -> dict[str, Any]:
    from app.evaluation.extractors import get_extractor, score_output
    from workers.evaluation.run import prompt_ids

    spec: PlaygroundSpec = ctx.spec
    rule = get_extractor(spec.extractor)
    models = answerers(ctx)
    total = len(models)
    answers: dict[int, dict[str, Any]] = {}
    ctx.progress("loading the model", 0, total, force=True)
    for loads in dict.fromkeys(m.loads for m in models):
        target = _load(*loads)
        prompt = prompt_ids(target.tokenizer, spec.question)
        for index, m in enumerate(models):
            if m.loads != loads:
                continue
            ctx.progress(PHASE, len(answers), total, {"answering": m.label}, force=True)
            started = time.perf_counter()
            tokens: dict[int, int] = {}
            output = target.generate(
                [prompt],
                max_new_tokens=spec.max_new_tokens,
                adapter=Path(m.adapter) if m.adapter else None,
                on_tokens=tokens.__setitem__,
            )[0]
            seconds = time.perf_counter() - started
            if spec.gold is not None:
                scored = score_output(spec.extractor, output, spec.gold)
                extracted, correct, why = scored.extracted, scored.correct, scored.why
            else:
                extracted, correct, why = rule.extract(output), None, "no gold answer"
            answers[index] = {
                "label": m.label,
                "run_id": m.run_id,
                "model": target.name,
                "output": output,
                "extracted": extracted,
                "correct": correct,
                "why": why,
                "new_tokens": int(tokens.get(0, 0)),
                "seconds": round(seconds, 2),
            }
            ctx.progress(PHASE, len(answers), total, force=True)
    ordered = [answers[i] for i in range(total)]
    result = {
        "summary": _summary(ordered, spec.gold is not None),
        "question": spec.question,
        "gold": spec.gold,
        "extractor": spec.extractor,
        "answers": ordered,
    }
    ctx.save(lambda _session: None, result)
    return result


def _summary(answers: list[dict[str, Any]], judged: bool) -> str:
    text = f"{len(answers)} answer{'s' if len(answers) != 1 else ''}"
    if judged:
        right = sum(bool(a["correct"]) for a in answers)
        text += f", {right} matching the gold"
    return text + "."


def _load(model: str, backend: str, dtype: str) -> Any:
    from workers.backends import load_backend
    from workers.modeling import ModelLoadError

    try:
        return load_backend(backend, model, cache_dir=get_settings().models_dir, dtype=dtype)
    except ModelLoadError as exc:
        raise JobFailure(str(exc)) from exc
