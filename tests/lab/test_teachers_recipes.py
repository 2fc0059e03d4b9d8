"""Teachers (keys encrypted, never read back) and versioned recipes, on both databases."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.lab import recipes as lab_recipes
from app.lab import teachers as lab_teachers
from app.lab.presets import PRESETS
from app.lab.secrets import KeyUnreadable, decrypt_key
from app.models import LabRecipeVersion, LabTeacher, Project
from app.schemas.lab import RecipeCreate, TeacherCreate, TeacherUpdate
from app.services.errors import BadInput, Conflict

KEY = "sk-test-VERYSECRET-0123456789abcd"


def _project(session: Session) -> int:
    project = Project(name="lab", target_model="packaged:SmolLM2-135M-Instruct")
    session.add(project)
    session.flush()
    return project.id


def _teacher(session: Session, pid: int, key: str | None = KEY) -> None:
    data = TeacherCreate(
        name="gpt",
        base_url="http://127.0.0.1:9/v1/",
        model="gpt-x",
        api_key=SecretStr(key) if key else None,
    )
    lab_teachers.create_teacher(session, project_id=pid, data=data)


def test_key_is_stored_encrypted_and_read_back_only_as_a_hint(session: Session) -> None:
    pid = _project(session)
    _teacher(session, pid)
    session.commit()
    row = session.scalars(select(LabTeacher).where(LabTeacher.name == "gpt")).one()
    assert KEY not in (row.api_key_encrypted or "")
    assert decrypt_key(row.api_key_encrypted or "") == KEY
    listed = lab_teachers.list_teachers(session, project_id=pid)
    dumped = listed.model_dump_json()
    assert KEY not in dumped and KEY[:-4] not in dumped
    gpt = next(t for t in listed.teachers if t.name == "gpt")
    assert (gpt.api_key, gpt.api_key_hint, gpt.base_url) == ("set", "abcd", "http://127.0.0.1:9/v1")
    assert KEY not in repr(lab_teachers.endpoint_for(row))


def test_the_target_is_always_a_teacher_without_key(session: Session) -> None:
    pid = _project(session)
    listed = lab_teachers.list_teachers(session, project_id=pid).teachers
    assert [(t.name, t.kind, t.api_key) for t in listed] == [("target", "target", "not set")]
    assert listed[0].model == "packaged:SmolLM2-135M-Instruct"
    with pytest.raises(Conflict):
        lab_teachers.delete_teacher(session, project_id=pid, name="target")
    with pytest.raises(BadInput, match="no API key"):
        lab_teachers.update_teacher(
            session, project_id=pid, name="target", data=TeacherUpdate(api_key=SecretStr("x"))
        )
    # without a server it answers in the worker; with one, through it
    target = lab_teachers.ensure_target_teacher(session, project_id=pid)
    here = lab_teachers.endpoint_for(target)
    assert here.local and here.model == "packaged:SmolLM2-135M-Instruct"
    target.base_url = "http://127.0.0.1:8000/v1"
    assert not lab_teachers.endpoint_for(target).local


def test_short_key_shows_no_hint_and_key_can_be_removed(session: Session) -> None:
    pid = _project(session)
    _teacher(session, pid, key="short-key")
    gpt = lab_teachers.list_teachers(session, project_id=pid).teachers[-1]
    assert (gpt.api_key, gpt.api_key_hint) == ("set", None)
    gone = lab_teachers.update_teacher(
        session, project_id=pid, name="gpt", data=TeacherUpdate(api_key=SecretStr(""))
    )
    assert (gone.api_key, gone.api_key_hint) == ("not set", None)


def test_a_stored_key_never_follows_a_new_base_url(session: Session) -> None:
    """Moving a teacher to another host needs its key again: else whoever may edit the URL
    could have the stored key sent to a host of their choosing without ever seeing it."""
    pid = _project(session)
    _teacher(session, pid)
    moved = TeacherUpdate(base_url="http://elsewhere.example:8000/v1")
    with pytest.raises(BadInput, match="needs the API key again") as caught:
        lab_teachers.update_teacher(session, project_id=pid, name="gpt", data=moved)
    assert caught.value.field == "api_key"
    row = session.scalars(select(LabTeacher).where(LabTeacher.name == "gpt")).one()
    assert row.base_url == "http://127.0.0.1:9/v1"
    same = TeacherUpdate(base_url="http://127.0.0.1:9/v1/", max_concurrency=2)  # not a move
    assert (
        lab_teachers.update_teacher(session, project_id=pid, name="gpt", data=same).api_key == "set"
    )
    both = TeacherUpdate(base_url="http://elsewhere.example:8000/v1", api_key=SecretStr(KEY))
    done = lab_teachers.update_teacher(session, project_id=pid, name="gpt", data=both)
    assert (done.base_url, done.api_key) == ("http://elsewhere.example:8000/v1", "set")


@pytest.mark.parametrize(
    "url", ["https://user:pw@api.example/v1", "https://api.example/v1?api-key=abc", "ftp://x"]
)
def test_a_base_url_cannot_carry_a_secret(url: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="base_url") as caught:
        TeacherCreate(name="t", base_url=url, model="m")
    assert "pw" not in str(caught.value) and "abc" not in str(caught.value)


def test_a_changed_secret_makes_the_key_unreadable_not_leaked(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.config import get_settings

    pid = _project(session)
    _teacher(session, pid)
    row = session.scalars(select(LabTeacher).where(LabTeacher.name == "gpt")).one()
    monkeypatch.setenv("LAB_SECRET_KEY", "another secret")
    get_settings.cache_clear()
    with pytest.raises(KeyUnreadable) as caught:
        lab_teachers.endpoint_for(row)
    assert "enter the key again" in str(caught.value)
    assert (row.api_key_encrypted or "")[:20] not in str(caught.value)


def test_editing_a_recipe_adds_a_version_and_same_content_does_not(session: Session) -> None:
    pid = _project(session)
    data = RecipeCreate(name="mine", user_template="Q: {{ question }}", temperature=0.2)
    first = lab_recipes.save_recipe(session, project_id=pid, data=data)
    again = lab_recipes.save_recipe(session, project_id=pid, data=data)
    assert (first.latest.version, again.latest.version, again.versions) == (1, 1, 1)
    assert first.latest.teacher == "target"
    changed = data.model_copy(update={"temperature": 0.7})
    second = lab_recipes.save_recipe(session, project_id=pid, data=changed)
    assert (second.latest.version, second.versions) == (2, 2)
    assert second.latest.id != first.latest.id
    versions = lab_recipes.recipe_versions(session, project_id=pid, name="mine")
    assert [(v.version, v.temperature) for v in versions] == [(1, 0.2), (2, 0.7)]


def test_bad_templates_are_refused_naming_the_problem(session: Session) -> None:
    pid = _project(session)
    with pytest.raises(BadInput, match="unknown variable answer"):
        lab_recipes.save_recipe(
            session, project_id=pid, data=RecipeCreate(name="x", user_template="{{ answer }}")
        )
    with pytest.raises(BadInput, match="user message"):
        lab_recipes.save_recipe(
            session, project_id=pid, data=RecipeCreate(name="x", user_template="{% for %}")
        )
    assert session.scalars(select(LabRecipeVersion)).all() == []


def test_every_preset_installs_with_its_source(session: Session) -> None:
    pid = _project(session)
    _teacher(session, pid)
    saved = lab_recipes.install_presets(session, project_id=pid, teacher="gpt")
    assert sorted(r.name for r in saved) == sorted(PRESETS)
    for recipe in saved:
        assert recipe.latest.source, recipe.name
        assert recipe.latest.preset == recipe.name
        expected = None if recipe.latest.kind == "rule" else "gpt"
        assert recipe.latest.teacher == expected
    with pytest.raises(BadInput, match="did you mean 'direct'"):
        lab_recipes.install_presets(session, project_id=pid, names=["dirct"])


def test_deleting_a_project_takes_its_teachers_and_recipes(session: Session) -> None:
    """The project's teachers and recipe versions both go with it in one cascade: a
    version's teacher reference may not stop it (Postgres checks RESTRICT, and NO ACTION
    too, before the other cascade path has run; the reference is checked at commit)."""
    from app.models import LabRecipe

    pid = _project(session)
    _teacher(session, pid)
    lab_recipes.install_presets(session, project_id=pid, teacher="gpt", names=["direct"])
    lab_recipes.install_presets(
        session, project_id=pid, teacher="target", names=["simple_response"]
    )
    session.commit()
    recipes = select(LabRecipe.id).where(LabRecipe.project_id == pid)
    versions = list(
        session.scalars(select(LabRecipeVersion.id).where(LabRecipeVersion.recipe_id.in_(recipes)))
    )
    assert len(versions) == 2
    session.delete(session.get(Project, pid))
    session.commit()
    for table in (LabTeacher, LabRecipe):
        assert session.scalars(select(table).where(table.project_id == pid)).all() == []
    gone = select(LabRecipeVersion).where(LabRecipeVersion.id.in_(versions))
    assert session.scalars(gone).all() == []


def test_a_recipe_that_needs_gold_or_own_answers_names_the_questions_lacking_them(
    session: Session,
) -> None:
    from app.lab.plan import plan_sample
    from app.models import Question

    pid = _project(session)
    q = Question(project_id=pid, text_key="k", text="2 + 2?", gold=None, position=0)
    q2 = Question(project_id=pid, text_key="k2", text="3 + 3?", gold="#### 6", position=1)
    session.add_all([q, q2])
    session.flush()
    saved = lab_recipes.install_presets(session, project_id=pid, names=["rewrite_gold"])
    own = lab_recipes.install_presets(session, project_id=pid, names=["minimum_change"])
    for recipe, what, question in ((saved[0], "gold answer", q), (own[0], "own answer", q2)):
        with pytest.raises(BadInput, match=f"no {what}.*question {question.id}"):
            plan_sample(
                session,
                project_id=pid,
                version_ids=[recipe.latest.id],
                question_ids=[question.id],
            )
