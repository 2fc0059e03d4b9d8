"""The strategy lab's JSON API: teachers (owners manage them; keys go in, never out),
recipes and their versions, presets, the estimate of a sample and its start."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from app.deps import SessionDep
from app.lab import recipes as lab_recipes
from app.lab import samples as lab_samples
from app.lab import teachers as lab_teachers
from app.schemas.jobs import JobRead
from app.schemas.lab import (
    PresetsInstall,
    RecipeCreate,
    RecipeRead,
    RecipeVersionRead,
    TeacherCreate,
    TeacherList,
    TeacherRead,
    TeacherUpdate,
)
from app.security.guards import ProjectId
from app.specs.lab import LabSampleCreate

router = APIRouter()
API = "/api/v1/projects/{project_id:id}/lab"
Name = Annotated[str, Path(min_length=1, max_length=100, description="A name in the project")]


@router.get(API + "/teachers", response_model=TeacherList, tags=["lab"])
def api_list_teachers(project_id: ProjectId, session: SessionDep) -> TeacherList:
    """The project's teachers, the target itself first; a key shows as "set" at most."""
    return lab_teachers.list_teachers(session, project_id=project_id)


@router.post(API + "/teachers", response_model=TeacherRead, status_code=201, tags=["lab"])
def api_create_teacher(
    project_id: ProjectId, data: TeacherCreate, session: SessionDep
) -> TeacherRead:
    """Owners: add an OpenAI-compatible endpoint (its key is stored encrypted)."""
    created = lab_teachers.create_teacher(session, project_id=project_id, data=data)
    session.commit()
    return created


@router.patch(API + "/teachers/{name}", response_model=TeacherRead, tags=["lab"])
def api_update_teacher(
    project_id: ProjectId, name: Name, data: TeacherUpdate, session: SessionDep
) -> TeacherRead:
    """Owners: change the URL, model, concurrency or key ("" removes the key)."""
    changed = lab_teachers.update_teacher(session, project_id=project_id, name=name, data=data)
    session.commit()
    return changed


@router.delete(API + "/teachers/{name}", status_code=204, tags=["lab"])
def api_delete_teacher(project_id: ProjectId, name: Name, session: SessionDep) -> Response:
    lab_teachers.delete_teacher(session, project_id=project_id, name=name)
    session.commit()
    return Response(status_code=204)


@router.get(API + "/recipes", response_model=list[RecipeRead], tags=["lab"])
def api_list_recipes(project_id: ProjectId, session: SessionDep) -> list[RecipeRead]:
    return lab_recipes.list_recipes(session, project_id=project_id)


@router.post(API + "/recipes", response_model=RecipeRead, tags=["lab"])
def api_save_recipe(project_id: ProjectId, data: RecipeCreate, session: SessionDep) -> RecipeRead:
    """Create a recipe, or add a version to it when its content changed."""
    saved = lab_recipes.save_recipe(session, project_id=project_id, data=data)
    session.commit()
    return saved


@router.get(API + "/recipes/{name}/versions", response_model=list[RecipeVersionRead], tags=["lab"])
def api_recipe_versions(
    project_id: ProjectId, name: Name, session: SessionDep
) -> list[RecipeVersionRead]:
    return lab_recipes.recipe_versions(session, project_id=project_id, name=name)


@router.post(API + "/presets", response_model=list[RecipeRead], tags=["lab"])
def api_install_presets(
    project_id: ProjectId, data: PresetsInstall, session: SessionDep
) -> list[RecipeRead]:
    """Save the research presets as recipes (teacher: a teacher's name; default the target)."""
    saved = lab_recipes.install_presets(
        session, project_id=project_id, teacher=data.teacher, names=data.names
    )
    session.commit()
    return saved


@router.post(API + "/estimate", tags=["lab"])
def api_estimate_sample(
    project_id: ProjectId, data: LabSampleCreate, session: SessionDep
) -> dict[str, Any]:
    """Tokens and worst-case cost per recipe (every answer as long as max_tokens), and how
    the tokens were counted; nothing is sent."""
    return lab_samples.estimate_sample(session, project_id=project_id, data=data)


@router.post(API + "/samples", response_model=JobRead, status_code=202, tags=["lab"])
def api_start_sample(project_id: ProjectId, data: LabSampleCreate, session: SessionDep) -> JobRead:
    """Queue a sample: the recipes' latest versions x the drawn questions."""
    job = lab_samples.start_sample(session, project_id=project_id, data=data)
    session.commit()
    return job
