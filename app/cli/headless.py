"""`familiar import`, `scan` and `validate`: the product without the web pages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.core import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    _fail,
    _prepare,
    cli,
)
from app.config import get_settings


@cli.command("import")
def import_files(
    project: Annotated[str, typer.Argument(help="Project id or exact name")],
    files: Annotated[list[Path], typer.Argument(help="Strategy files", exists=True)],
    strategy: Annotated[str | None, typer.Option(help="Strategy name (single file)")] = None,
    replace: Annotated[bool, typer.Option(help="Replace strategies of the same name")] = False,
    new_question_set: Annotated[
        bool,
        typer.Option(
            help="The files answer a new set of questions on purpose (a test set): accepted "
            "even when no question stays answered by every strategy"
        ),
    ] = False,
) -> None:
    """Import strategy files into a project (all or nothing)."""
    from app.db import session_scope
    from app.ingest.records import UploadError
    from app.services.errors import BadInput, Conflict, NotFound
    from app.services.projects import find_project
    from app.services.uploads import ingest_files

    _prepare()
    try:
        with session_scope() as session:
            project_id = find_project(session, ref=project).id
            result = ingest_files(
                session,
                project_id=project_id,
                files=[(f.name, f.read_bytes()) for f in files],
                strategy_name=strategy,
                replace=replace,
                new_question_set=new_question_set,
            )
    except (UploadError, BadInput) as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from exc
    except (Conflict, NotFound) as exc:
        raise _fail(exc, EXIT_FAILED) from exc
    for s in result.strategies:
        typer.echo(f"{s.name}: {s.n_responses} responses ({s.n_new_questions} new questions)")


def _spec_help(name: str) -> str:
    """ScanSpec's help text of a field, its bounds after it."""
    from app.specs.form_fields import spec_field
    from app.specs.scan import ScanSpec

    return spec_field(ScanSpec, name).cli_help


def _default(name: str):  # type: ignore[no-untyped-def]
    from app.specs.form_fields import spec_field
    from app.specs.scan import ScanSpec

    return spec_field(ScanSpec, name).default


def _v_help(name: str) -> str:
    """ValidationSpec's help text of a field, its bounds after it."""
    from app.specs.form_fields import spec_field
    from app.specs.validation import ValidationSpec

    return spec_field(ValidationSpec, name).cli_help


def _v_default(name: str):  # type: ignore[no-untyped-def]
    from app.specs.form_fields import spec_field
    from app.specs.validation import ValidationSpec

    return spec_field(ValidationSpec, name).default


@cli.command()
def scan(
    files: Annotated[list[Path], typer.Argument(help="One file per strategy", exists=True)],
    out: Annotated[Path, typer.Option(help="Where to write results.json")],
    model: Annotated[str | None, typer.Option(help=_spec_help("model"))] = None,
    metrics: Annotated[
        str, typer.Option(help="Comma-separated. " + _spec_help("metrics"))
    ] = ",".join(_default("metrics")),
    sample: Annotated[int, typer.Option(help=_spec_help("sample"))] = _default("sample"),
    samples: Annotated[int, typer.Option(help=_spec_help("samples"))] = _default("samples"),
    examples: Annotated[int, typer.Option(help=_spec_help("examples"))] = _default("examples"),
    pool: Annotated[int, typer.Option(help=_spec_help("pool"))] = _default("pool"),
    dtype: Annotated[str, typer.Option(help=_spec_help("dtype"))] = _default("dtype"),
    backend: Annotated[str, typer.Option(help=_spec_help("backend"))] = _default("backend"),
    seed: Annotated[int, typer.Option(help=_spec_help("seed"))] = _default("seed"),
    template: Annotated[str, typer.Option(help=_spec_help("template"))] = _default("template"),
    max_new_tokens: Annotated[int, typer.Option(help=_spec_help("max_new_tokens"))] = _default(
        "max_new_tokens"
    ),
    filter_correct: Annotated[
        bool,
        typer.Option("--filter-correct/--no-filter-correct", help=_spec_help("filter_correct")),
    ] = _default("filter_correct"),
    allow_unfiltered_fallback: Annotated[
        bool,
        typer.Option(
            "--allow-unfiltered-fallback/--no-unfiltered-fallback",
            help=_spec_help("allow_unfiltered_fallback"),
        ),
    ] = _default("allow_unfiltered_fallback"),
    judge: Annotated[str, typer.Option(help=_spec_help("judge"))] = _default("judge"),
    max_length: Annotated[int | None, typer.Option(help=_spec_help("max_length"))] = _default(
        "max_length"
    ),
    token_budget: Annotated[int | None, typer.Option(help=_spec_help("token_budget"))] = _default(
        "token_budget"
    ),
    verdicts_from: Annotated[
        str,
        typer.Option(
            help="Whose verdicts count in the share correct and the correctness rule: judge "
            "(Familiar's) or file (each row's own correct field where it has one, as a "
            "project set to use its files' verdicts)"
        ),
    ] = "judge",
) -> None:
    """Headless familiarity scan of strategy files; writes results.json.

    Defaults are the web form's (one ScanSpec). Exit codes: 0 done, 2 bad input (settings,
    files, model), 1 anything else.
    """
    _scan_files(list(files), out, {k: v for k, v in locals().items() if k not in ("files", "out")})


def _scan_files(files: list[Path], out: Path, options: dict[str, object]) -> None:
    """``familiar scan``'s work: its options are ScanSpec's fields by name, and
    ``verdicts_from``."""
    from app.ingest.records import UploadError
    from app.specs.scan import ScanInputError, ScanSpec
    from workers.modeling import ModelLoadError
    from workers.modeling.memory import reusing_freed_memory
    from workers.modeling.threads import configure_torch_threads
    from workers.scan_cli import scan_files

    settings = get_settings()
    configure_torch_threads()
    metrics = str(options.pop("metrics"))
    options["metrics"] = [m.strip() for m in metrics.split(",") if m.strip()]
    options["model"] = options.get("model") or settings.default_model
    verdicts_from = str(options.pop("verdicts_from", "judge"))
    try:
        spec = ScanSpec(**options)  # type: ignore[arg-type]
        with reusing_freed_memory():
            scan_files(
                files,
                spec,
                out=out,
                cache_dir=settings.data_dir,
                models_dir=settings.models_dir,
                verdicts_from=verdicts_from,
            )
    except (ScanInputError, ModelLoadError, UploadError) as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from exc


@cli.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="One file per strategy", exists=True)],
    test: Annotated[Path, typer.Option(help="Test set: questions with gold answers", exists=True)],
    out: Annotated[Path, typer.Option(help="Where to write results.json")],
    model: Annotated[str | None, typer.Option(help="Target model (default DEFAULT_MODEL)")] = None,
    seeds: Annotated[int, typer.Option(help=_v_help("seeds"))] = _v_default("seeds"),
    train_examples: Annotated[
        int | None, typer.Option(help=_v_help("train_examples"))
    ] = _v_default("train_examples"),
    val_examples: Annotated[int | None, typer.Option(help=_v_help("val_examples"))] = _v_default(
        "val_examples"
    ),
    test_limit: Annotated[int | None, typer.Option(help=_v_help("test_limit"))] = _v_default(
        "test_limit"
    ),
    extractor: Annotated[str | None, typer.Option(help=_v_help("extractor"))] = _v_default(
        "extractor"
    ),
    max_new_tokens: Annotated[int, typer.Option(help=_v_help("max_new_tokens"))] = _v_default(
        "max_new_tokens"
    ),
    halving: Annotated[bool, typer.Option(help=_v_help("halving"))] = _v_default("halving"),
    scan_sample: Annotated[
        int, typer.Option(help="Run a familiarity scan of this many questions first (0: none)")
    ] = 0,
    train: Annotated[
        str,
        typer.Option(
            help="TrainSettings as JSON (defaults: the spec's), e.g. '{\"lora_r\": 8, "
            '"learning_rate": 2e-5}\''
        ),
    ] = "{}",
) -> None:
    """Headless validation: fine-tune on each file, evaluate on the test set; results.json.

    The run is stored in the configured database, so the web app shows it too. Exit codes:
    0 done, 2 bad input (settings, files), 1 a job failed or anything else.
    """
    options = {k: v for k, v in locals().items() if k not in ("files", "test", "out")}
    if _validate_files(list(files), test, out, options)["validation"]["status"] != "done":
        raise typer.Exit(EXIT_FAILED)


def _validate_files(
    files: list[Path], test: Path, out: Path, options: dict[str, Any]
) -> dict[str, Any]:
    """``familiar validate``'s work: its options are ValidationSpec's fields by name (the
    training settings as JSON in ``train``)."""
    import json

    from app.ingest.records import UploadError
    from app.services.errors import BadInput
    from app.specs.validation import ValidationInputError, ValidationSpec
    from workers.modeling.threads import configure_torch_threads
    from workers.validate_cli import validate_files

    settings = get_settings()
    configure_torch_threads()
    _prepare()
    model, scan_sample = options.pop("model"), options.pop("scan_sample")
    try:
        spec = ValidationSpec(**{**options, "train": json.loads(options["train"])})
        return validate_files(
            files,
            test,
            spec,
            out=out,
            scan_sample=scan_sample,
            model=model or settings.default_model,
        )
    except (ValidationInputError, UploadError, BadInput, ValueError) as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from exc
