"""Recipes: named, versioned. Saving a recipe whose content changed adds a version; saving
the same content again changes nothing (the answers of a version stay that version's)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.lab.presets import PRESETS, preset
from app.lab.prompts import TemplateProblem, check_template
from app.lab.teachers import get_teacher_row
from app.models import LabRecipe, LabRecipeVersion, LabTeacher, Project
from app.schemas.lab import RecipeContent, RecipeCreate, RecipeRead, RecipeVersionRead
from app.services.errors import BadInput, NotFound

CONTENT_FIELDS = tuple(f for f in RecipeContent.model_fields if f != "teacher")


def version_read(row: LabRecipeVersion, teacher: LabTeacher | None) -> RecipeVersionRead:
    return RecipeVersionRead(
        id=row.id,
        recipe_id=row.recipe_id,
        version=row.version,
        teacher_id=row.teacher_id,
        teacher=teacher.name if teacher else None,
        created_at=row.created_at,
        **{f: getattr(row, f) for f in CONTENT_FIELDS},
    )


def _check(data: RecipeContent) -> None:
    try:
        check_template(data.system_template, "system message")
        check_template(data.user_template, "user message")
    except TemplateProblem as exc:
        raise BadInput(str(exc), field="user_template") from None
    if data.kind == "rule" and data.teacher is not None:
        raise BadInput("a rule recipe calls no teacher: leave teacher empty", field="teacher")


def _latest(session: Session, recipe_id: int) -> LabRecipeVersion | None:
    return session.scalars(
        select(LabRecipeVersion)
        .where(LabRecipeVersion.recipe_id == recipe_id)
        .order_by(LabRecipeVersion.version.desc())
    ).first()


def _same(row: LabRecipeVersion, data: RecipeContent, teacher_id: int | None) -> bool:
    if row.teacher_id != teacher_id:
        return False
    return all(getattr(row, f) == getattr(data, f) for f in CONTENT_FIELDS)


def save_recipe(session: Session, *, project_id: int, data: RecipeCreate) -> RecipeRead:
    """Create the recipe, or add a version when its content changed."""
    if session.get(Project, project_id) is None:
        raise NotFound(f"project {project_id} not found")
    _check(data)
    teacher = None
    if data.kind == "teacher":
        teacher = get_teacher_row(session, project_id=project_id, name=data.teacher or "target")
    name = data.name.strip()
    recipe = session.scalars(
        select(LabRecipe).where(LabRecipe.project_id == project_id, LabRecipe.name == name)
    ).first()
    if recipe is None:
        recipe = LabRecipe(project_id=project_id, name=name)
        session.add(recipe)
        session.flush()
    latest = _latest(session, recipe.id)
    teacher_id = teacher.id if teacher else None
    if latest is None or not _same(latest, data, teacher_id):
        content = {f: getattr(data, f) for f in CONTENT_FIELDS}
        latest = LabRecipeVersion(
            recipe_id=recipe.id,
            version=(latest.version + 1) if latest else 1,
            teacher_id=teacher_id,
            **content,
        )
        session.add(latest)
        session.flush()
    return _recipe_read(session, recipe, latest)


def _recipe_read(session: Session, recipe: LabRecipe, latest: LabRecipeVersion) -> RecipeRead:
    count = session.scalar(select(func.count()).where(LabRecipeVersion.recipe_id == recipe.id))
    teacher = session.get(LabTeacher, latest.teacher_id) if latest.teacher_id else None
    return RecipeRead(
        id=recipe.id,
        project_id=recipe.project_id,
        name=recipe.name,
        latest=version_read(latest, teacher),
        versions=count or 0,
    )


def list_recipes(session: Session, *, project_id: int) -> list[RecipeRead]:
    recipes = session.scalars(
        select(LabRecipe).where(LabRecipe.project_id == project_id).order_by(LabRecipe.name)
    ).all()
    return [_recipe_read(session, r, _latest(session, r.id)) for r in recipes]  # type: ignore[arg-type]


def recipe_versions(session: Session, *, project_id: int, name: str) -> list[RecipeVersionRead]:
    recipe = session.scalars(
        select(LabRecipe).where(LabRecipe.project_id == project_id, LabRecipe.name == name)
    ).first()
    if recipe is None:
        raise NotFound(f"no recipe named '{name}' in project {project_id}")
    rows = session.scalars(
        select(LabRecipeVersion)
        .where(LabRecipeVersion.recipe_id == recipe.id)
        .order_by(LabRecipeVersion.version)
    ).all()
    return [
        version_read(r, session.get(LabTeacher, r.teacher_id) if r.teacher_id else None)
        for r in rows
    ]


def install_presets(
    session: Session, *, project_id: int, teacher: str | None = None, names: list[str] | None = None
) -> list[RecipeRead]:
    """Save the research presets as recipes named after them (all of them by default)."""
    out = []
    for name in names or list(PRESETS):
        try:
            content = preset(name, teacher=teacher)
        except KeyError as exc:
            raise BadInput(str(exc.args[0]), field="names") from None
        data = RecipeCreate(name=name, **content.model_dump())
        out.append(save_recipe(session, project_id=project_id, data=data))
    return out
