"""Validation jobs: train one (strategy, seed) run, evaluate one model on the test set.

Thin: load the inputs, call the pure cores (``workers.training.train_adapter``,
``workers.evaluation.run.evaluate_model``), write live curve points as they come, and save
results with the job's success in one transaction (``JobContext.save``). Checkpoints and
adapters live in the artifact store (``app.artifacts``, ARTIFACT_ROOT) under the run's key,
published as they are written (``run_artifacts``), so a requeued job (worker killed) resumes
from the last one on any host; rows store the chosen adapter's key, and evaluation loads it
through the store (``ArtifactStore.locate``), never from a path of the training worker.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.artifacts import ArtifactError, artifact_store
from app.backends import DEFAULT_BACKEND
from app.config import get_settings
from app.db import session_scope
from app.models import Evaluation, Question, Response, TestQuestion, Validation, ValidationRun
from app.services.validations.record import record_evaluation, record_train_result, write_points
from app.specs.validation import ValidationEvalSpec, ValidationSpec, ValidationTrainSpec
from workers.jobs.context import JobCancelled, JobContext, JobFailure
from workers.jobs.run_artifacts import RunArtifacts

if TYPE_CHECKING:
    from workers.backends.base import ModelBackend

FLUSH_EVERY_S = 2.0


def _load(name: str, precision: str, backend: str = DEFAULT_BACKEND) -> ModelBackend:
    """The model backend (``workers.backends``) the validation trains and evaluates with."""
    from workers.backends import load_backend
    from workers.modeling import ModelLoadError

    dtype = precision if precision in ("float32", "bfloat16") else "auto"
    try:
        return load_backend(backend, name, cache_dir=get_settings().models_dir, dtype=dtype)
    except ModelLoadError as exc:
        raise JobFailure(str(exc)) from exc


def _train_inputs(
    spec: ValidationTrainSpec,
) -> tuple[ValidationSpec, dict[str, Any], Any, list, list]:
    from workers.training import Example, ValExample

    with session_scope() as session:
        validation = session.get(Validation, spec.validation_id)
        run = session.get(ValidationRun, spec.run_id)
        if validation is None or run is None:
            raise JobFailure(f"validation {spec.validation_id} run {spec.run_id} no longer exists")
        vspec = ValidationSpec.model_validate(validation.spec)
        summary = {
            "train_question_ids": validation.question_ids("train"),
            "val_question_ids": validation.question_ids("val"),
            "model": validation.model_name,
            "extractor": validation.extractor,
        }
        texts = dict(
            session.execute(
                select(Response.question_id, Response.text).where(
                    Response.strategy_id == run.strategy_id,
                    Response.question_id.in_(
                        summary["train_question_ids"] + summary["val_question_ids"]
                    ),
                )
            ).all()
        )
        questions = dict(
            session.execute(
                select(Question.id, Question.text).where(
                    Question.id.in_(summary["train_question_ids"] + summary["val_question_ids"])
                )
            ).all()
        )
        golds = dict(
            session.execute(
                select(Question.id, Question.gold).where(
                    Question.id.in_(summary["val_question_ids"])
                )
            ).all()
        )
        train = [
            Example(question=questions[q], response=texts[q])
            for q in summary["train_question_ids"]
            if q in texts
        ]
        val = [
            ValExample(  # the strategy's own response: the validation loss is taken on it
                question_id=str(q), question=questions[q], gold=str(golds[q]), response=texts.get(q)
            )
            for q in summary["val_question_ids"]
        ]
        return vspec, {"seed": run.seed, "strategy_id": run.strategy_id}, summary, train, val


class _Points:
    """Curve points buffered and written every couple of seconds (checkpoints at once)."""

    def __init__(self, ctx: JobContext, run_id: int, artifacts: RunArtifacts) -> None:
        self.ctx, self.run_id, self.steps, self.last = ctx, run_id, list[dict[str, Any]](), 0.0
        self.artifacts = artifacts

    def step(self, log: Any) -> None:
        self.steps.append(
            {"step": log.step, "loss": float(log.loss), "tokens_per_s": float(log.tokens_per_s)}
        )
        if time.monotonic() - self.last >= FLUSH_EVERY_S or log.step >= log.total_steps:
            self.flush()
        extra = {
            "loss": float(log.loss),
            "tokens_per_s": round(float(log.tokens_per_s), 1),
            "seconds_left": log.seconds_left,
        }
        self.ctx.progress("training", log.step, log.total_steps, extra)

    def checkpoint(self, log: Any) -> None:
        try:
            self.artifacts.publish_checkpoint(log.path, log.step)  # before it is reported
        except (ArtifactError, OSError) as exc:
            raise JobFailure(f"artifact store: checkpoint {log.step} not published: {exc}") from exc
        self.flush([{"step": log.step, "val_loss": log.val_loss, "val_accuracy": log.val_accuracy}])
        self.ctx.log(checkpoint_line(log.step, log.val_loss, log.val_accuracy))
        self.ctx.check()

    def flush(self, checkpoints: list[dict[str, Any]] | None = None) -> None:
        self.ctx.check()  # a cancelled or taken-over job writes no more points
        steps, self.steps, self.last = self.steps, [], time.monotonic()
        with session_scope() as session:
            write_points(session, run_id=self.run_id, steps=steps, checkpoints=checkpoints or [])


def checkpoint_line(step: int, val_loss: float | None, val_accuracy: float | None) -> str:
    """A checkpoint as the job log says it: loss to 4 digits, accuracy in percent."""
    loss = "–" if val_loss is None else f"{val_loss:.4f}"
    accuracy = "–" if val_accuracy is None else f"{100 * val_accuracy:.1f}%"
    return f"checkpoint at step {step}: val loss {loss}, val accuracy {accuracy}"


def train_run(ctx: JobContext) -> dict[str, Any]:
    from app.evaluation.extractors import score_output
    from workers.training import TrainingCancelled, TrainingError

    spec: ValidationTrainSpec = ctx.spec
    vspec, run, summary, train, val = _train_inputs(spec)
    artifacts = _run_artifacts(spec)  # before the model: a store it cannot reach fails at once
    ctx.progress("loading the model", 0, 1, force=True)
    target = _load(vspec.model or summary["model"], vspec.train.precision, vspec.backend)
    settings = vspec.train.model_copy(update={"seed": run["seed"]})
    extractor = summary["extractor"]
    points = _Points(ctx, spec.run_id, artifacts)
    try:
        result = target.train_adapter(
            train,
            val,
            settings,
            artifacts.dir,
            score=lambda output, gold: score_output(extractor, output, gold).correct,
            on_step=points.step,
            on_checkpoint=points.checkpoint,
            should_stop=lambda: _stopping(ctx),
            until_step=spec.until_step,
        )
    except TrainingCancelled as exc:
        ctx.check()
        raise JobCancelled(str(exc)) from exc
    except TrainingError as exc:
        raise JobFailure(str(exc)) from exc
    points.flush()
    best = result.best
    _publish(artifacts, result.checkpoints)
    out = {
        "finished": not result.stopped_early,
        "steps": result.total_steps if not result.stopped_early else (spec.until_step or 0),
        "total_steps": result.total_steps,
        "best_step": best.step,
        "best_val_accuracy": best.val_accuracy,
        "best_val_loss": best.val_loss,
        "adapter_key": artifacts.checkpoint_key(best.step),
        "train_tokens": result.train_tokens,
        "seconds": round(result.seconds, 2),
        "dtype": result.dtype,
        "effective_batch": result.effective_batch,
        "resumed_from": result.resumed_from,
        "notes": list(result.notes),
        "n_train": len(train),
        "n_val": len(val),
    }
    ctx.save(lambda s: record_train_result(s, run_id=spec.run_id, result=out), out)
    return out


def _run_artifacts(spec: ValidationTrainSpec) -> RunArtifacts:
    """The run's artifacts, its finished checkpoints pulled from the store (to resume)."""
    try:
        artifacts = RunArtifacts(artifact_store(), spec.validation_id, spec.run_id)
        artifacts.pull()
    except (ArtifactError, OSError) as exc:
        raise JobFailure(f"artifact store: {exc}") from exc
    return artifacts


def _publish(artifacts: RunArtifacts, checkpoints: list[Any]) -> None:
    try:
        artifacts.publish_all(checkpoints)
    except (ArtifactError, OSError) as exc:
        raise JobFailure(f"artifact store: could not publish the checkpoints: {exc}") from exc


def _stopping(ctx: JobContext) -> bool:
    try:
        ctx.check()
    except Exception:  # noqa: BLE001 - cancelled or taken over: stop at the next batch
        return True
    return False


def _eval_inputs(spec: ValidationEvalSpec) -> tuple[dict[str, Any], str | None, list[Any]]:
    from workers.evaluation.run import EvalQuestion

    with session_scope() as session:
        evaluation = session.get(Evaluation, spec.evaluation_id)
        validation = session.get(Validation, spec.validation_id)
        if evaluation is None or validation is None:
            raise JobFailure(f"evaluation {spec.evaluation_id} no longer exists")
        adapter = None
        if evaluation.run_id is not None:
            run = session.get(ValidationRun, evaluation.run_id)
            adapter = run.adapter_dir if run else None
            if not adapter:
                raise JobFailure(f"run {evaluation.run_id} has no trained adapter")
        ids = validation.question_ids("test")
        rows = session.execute(
            select(TestQuestion.id, TestQuestion.text, TestQuestion.gold).where(
                TestQuestion.id.in_(ids)
            )
        ).all()
        by_id = {r.id: r for r in rows}
        questions = [
            EvalQuestion(question_id=str(i), question=by_id[i].text, gold=by_id[i].gold)
            for i in ids
            if i in by_id
        ]
        return (
            {
                **validation.spec,
                **{
                    "model": validation.model_name,
                    "extractor": validation.extractor,
                },
            },
            adapter,
            questions,
        )


def _adapter_folder(ref: str | None) -> Path | None:
    """A local folder with the adapter a row references (downloaded from a remote store)."""
    if not ref:
        return None
    try:
        return artifact_store().locate(ref)
    except (ArtifactError, OSError) as exc:
        raise JobFailure(f"the adapter is not readable: {exc}") from exc


def evaluate_run(ctx: JobContext) -> dict[str, Any]:
    from workers.evaluation.run import evaluate_model

    spec: ValidationEvalSpec = ctx.spec
    vspec, adapter, questions = _eval_inputs(spec)
    folder = _adapter_folder(adapter)  # before the model: a missing adapter fails at once
    ctx.progress("loading the model", 0, 1, force=True)
    backend = vspec.get("backend", DEFAULT_BACKEND)
    target = _load(vspec["model"], vspec["train"]["precision"], backend)
    result = evaluate_model(
        target,
        target.tokenizer,
        questions,
        extractor=vspec["extractor"],
        max_new_tokens=vspec["max_new_tokens"],
        adapter=folder,
        on_progress=lambda done, total: ctx.progress("evaluating", done, total),
    )
    preds = [
        {
            "test_question_id": int(p.question_id),
            "output": p.output,
            "extracted": p.extracted,
            "gold": p.gold,
            "correct": bool(p.correct),
            "new_tokens": int(p.new_tokens),
        }
        for p in result.predictions
    ]
    out = {
        "accuracy": result.accuracy,
        "n": len(preds),
        "extractor": result.extractor,
        "seconds": round(result.seconds, 2),
        "tokens_per_s": result.tokens_per_s,
    }
    ctx.save(
        lambda s: record_evaluation(
            s,
            evaluation_id=spec.evaluation_id,
            predictions=preds,
            accuracy=result.accuracy,
            seconds=result.seconds,
            tokens_per_s=result.tokens_per_s,
            extractor=result.extractor,
        ),
        out,
    )
    return out
