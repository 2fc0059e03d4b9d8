"""`familiar lab ...`: the strategy lab headless (teachers, recipes from a file, estimate,
sample). Same services as the web API; the same exit codes as every command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import SecretStr, ValidationError

from app.cli.core import EXIT_BAD_INPUT, EXIT_FAILED, _fail, _prepare, cli

lab = typer.Typer(help="Strategy lab: teachers, recipes, sample estimates and runs.")
cli.add_typer(lab, name="lab")

ProjectArg = Annotated[int, typer.Argument(help="The project's id", min=1)]


def _read_recipes(path: Path) -> list[dict[str, Any]]:
    """A list of recipes (or {"recipes": [...]}) from a .json, .yaml or .yml file."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise _fail(f"{path}: {exc.strerror}", EXIT_BAD_INPUT) from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # noqa: BLE001 - yaml and json errors name the line
        raise _fail(f"{path}: {exc}", EXIT_BAD_INPUT) from None
    if isinstance(data, dict):
        data = data.get("recipes")
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise _fail(f"{path}: expected a list of recipes (or {{recipes: [...]}})", EXIT_BAD_INPUT)
    return data


def _recipe(entry: dict[str, Any], index: int, path: Path):  # type: ignore[no-untyped-def]
    """A recipe entry as RecipeCreate; ``preset: NAME`` starts from a preset."""
    from app.lab.presets import preset
    from app.schemas.lab import RecipeCreate

    try:
        base: dict[str, Any] = {}
        if entry.get("preset"):
            base = preset(str(entry["preset"]), teacher=entry.get("teacher")).model_dump()
        return RecipeCreate(**(base | entry))
    except (KeyError, ValidationError, TypeError) as exc:
        name = entry.get("name", f"#{index + 1}")
        raise _fail(f"{path}: recipe {name}: {exc}", EXIT_BAD_INPUT) from None


@lab.command("recipes")
def load_recipes(
    project_id: ProjectArg,
    file: Annotated[Path, typer.Argument(help="Recipes as YAML or JSON")],
) -> None:
    """Save recipes from a file; a changed recipe gets a new version, an unchanged one not."""
    from app.db import session_scope
    from app.lab.recipes import save_recipe
    from app.services.errors import BadInput, NotFound

    entries = [_recipe(e, i, file) for i, e in enumerate(_read_recipes(file))]
    _prepare()
    try:
        with session_scope() as session:
            saved = [save_recipe(session, project_id=project_id, data=e) for e in entries]
    except BadInput as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from None
    except NotFound as exc:
        raise _fail(exc, EXIT_FAILED) from None
    for recipe in saved:
        teacher = recipe.latest.teacher or "rule"
        typer.echo(f"{recipe.name} v{recipe.latest.version} ({teacher}): {recipe.latest.source}")


@lab.command("teacher")
def add_teacher(
    project_id: ProjectArg,
    name: Annotated[str, typer.Argument(help="The teacher's name in the project")],
    base_url: Annotated[str, typer.Option(help="OpenAI-compatible base URL (.../v1)")],
    model: Annotated[str, typer.Option(help="The model name the server serves")],
    api_key_stdin: Annotated[
        bool, typer.Option("--api-key-stdin", help="Read the API key from standard input")
    ] = False,
    max_concurrency: Annotated[int, typer.Option(min=1, max=64)] = 4,
) -> None:
    """Add a teacher; its key is read from standard input (never from the command line,
    which other users of the machine can see) and stored encrypted."""
    from app.db import session_scope
    from app.lab.teachers import create_teacher
    from app.schemas.lab import TeacherCreate
    from app.services.errors import Conflict, NotFound

    key = sys.stdin.readline().strip() if api_key_stdin else ""
    try:
        data = TeacherCreate(
            name=name,
            base_url=base_url,
            model=model,
            api_key=SecretStr(key) if key else None,
            max_concurrency=max_concurrency,
        )
    except ValidationError as exc:
        raise _fail(exc.errors()[0]["msg"], EXIT_BAD_INPUT) from None
    _prepare()
    try:
        with session_scope() as session:
            made = create_teacher(session, project_id=project_id, data=data)
    except (Conflict, NotFound) as exc:
        raise _fail(exc, EXIT_FAILED) from None
    typer.echo(f"teacher '{made.name}': {made.base_url} {made.model}, key {made.api_key}")


def _sample(recipes: list[str], n: int, seed: int, budget: float | None):  # type: ignore[no-untyped-def]
    from app.specs.lab import LabSampleCreate

    try:
        return LabSampleCreate(recipes=recipes, n_questions=n, seed=seed, budget=budget)
    except ValidationError as exc:
        raise _fail(exc.errors()[0]["msg"], EXIT_BAD_INPUT) from None


Recipes = Annotated[list[str], typer.Option("--recipe", help="A recipe name (repeat)")]
N = Annotated[int, typer.Option("--n", help="Questions in the sample", min=1)]
Seed = Annotated[int, typer.Option(help="Draws the sample", min=0)]
Budget = Annotated[float | None, typer.Option(help="Most the run may spend", min=0)]


@lab.command("estimate")
def estimate(
    project_id: ProjectArg, recipe: Recipes, n: N = 50, seed: Seed = 0, budget: Budget = None
) -> None:
    """Print the sample's tokens and worst-case cost per recipe as JSON; nothing is sent."""
    from app.db import session_scope
    from app.lab.samples import estimate_sample
    from app.services.errors import BadInput, NotFound

    data = _sample(recipe, n, seed, budget)
    _prepare()
    try:
        with session_scope() as session:
            out = estimate_sample(session, project_id=project_id, data=data)
    except BadInput as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from None
    except NotFound as exc:
        raise _fail(exc, EXIT_FAILED) from None
    typer.echo(json.dumps(out, indent=1))


@lab.command("sample")
def sample(
    project_id: ProjectArg, recipe: Recipes, n: N = 50, seed: Seed = 0, budget: Budget = None
) -> None:
    """Queue the sample (a worker runs it: `familiar worker` or `familiar serve`)."""
    from app.db import session_scope
    from app.lab.samples import start_sample
    from app.services.errors import BadInput, NotFound

    data = _sample(recipe, n, seed, budget)
    _prepare()
    try:
        with session_scope() as session:
            job = start_sample(session, project_id=project_id, data=data)
    except BadInput as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from None
    except NotFound as exc:
        raise _fail(exc, EXIT_FAILED) from None
    typer.echo(f"queued job {job.id}: {len(recipe)} recipes x up to {n} questions")
