"""Forms and the CLI take their defaults, bounds and help from the typed specs (issue 19):
the validation form once restated 16 defaults in its route, the CLI its help texts."""

from __future__ import annotations

import typer
from sqlalchemy import select

from app.cli import cli
from app.models import Validation
from app.specs.forms import spec_fields
from app.specs.training import TrainSettings
from app.specs.validation import ValidationSpec
from tests.app.test_validations import _project, _set_test
from tests.conftest import page_csrf


def test_spec_fields_converts_by_annotation() -> None:
    form = {
        "seeds": ["2"],
        "halving": ["true"],
        "test_limit": [""],
        "train_examples": ["7"],
        "strategy_ids": ["3", "5"],
        "label": ["12"],
        "unknown": ["x"],
    }
    got = spec_fields(ValidationSpec, form, skip=("train",))
    assert got == {
        "seeds": 2,
        "halving": True,
        "test_limit": None,
        "train_examples": 7,
        "strategy_ids": [3, 5],
        "label": "12",
    }
    train = spec_fields(TrainSettings, {"target_modules": ["q_proj, v_proj"], "lora_r": ["4"]})
    assert train == {"target_modules": ["q_proj", "v_proj"], "lora_r": 4}


def test_the_validation_form_keeps_the_specs_defaults(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client, n=12)
    _set_test(client, pid, [(f"What is {i} times 7?", "42") for i in range(3)])
    form = {
        "seeds": "1",
        "train_examples": "4",
        "val_examples": "2",
        "lora_r": "4",
        "test_limit": "",
    }
    r = client.post(f"/projects/{pid}/validations", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    spec = session.scalars(select(Validation)).one().spec
    defaults = ValidationSpec().to_dict()
    assert spec["train"] == defaults["train"] | {"lora_r": 4}
    assert spec["test_limit"] is None and spec["halving_first_steps"] == 50
    bad = client.post(f"/projects/{pid}/validations", data={**form, "lora_r": "0"})
    assert bad.status_code == 422 and "lora_r" in bad.text


def test_the_cli_takes_defaults_and_help_from_the_specs() -> None:
    command = typer.main.get_command(cli)
    params = {p.name: p for p in command.commands["validate"].params}  # type: ignore[attr-defined]
    for name in ("seeds", "test_limit", "max_new_tokens", "halving", "train_examples"):
        assert params[name].default == ValidationSpec.model_fields[name].default, name
        assert ValidationSpec.help()[name][:30] in (params[name].help or ""), name
    scan = {p.name: p for p in command.commands["scan"].params}
    from app.specs.scan import ScanSpec

    for name in ("sample", "pool", "backend", "dtype"):
        assert scan[name].default == ScanSpec.default(name), name


def test_a_refused_validation_form_keeps_what_was_typed(client) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client, n=12)
    _set_test(client, pid, [(f"What is {i} times 7?", "42") for i in range(3)])
    form = {"seeds": "1", "train_examples": "4", "lora_r": "0", "learning_rate": "3e-4"}
    r = client.post(f"/projects/{pid}/validations", data=form)
    assert r.status_code == 422
    assert "Something is wrong" not in r.text and "The validation did not start." in r.text
    field = r.text[r.text.index('name="lora_r"') :]
    field = field[: field.index("</label>")]
    assert 'value="0"' in field and 'id="lora_r-error"' in field
    assert "greater than or equal to 1" in field
    assert 'name="learning_rate" value="3e-4"' in r.text
    assert 'name="train_examples" value="4"' in r.text
    client.cookies.clear()  # a script again, not the browser session the page started
    too_many = client.post(
        f"/projects/{pid}/validations", data={**form, "lora_r": "4", "train_examples": "500"}
    )
    assert too_many.status_code == 422
    field = too_many.text[too_many.text.index('name="train_examples"') :]
    assert 'value="500"' in field[: field.index("</label>")]
    assert 'id="train_examples-error"' in field and "500 training examples" in field


def test_the_validation_form_sets_processes_and_memory_savers(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client, n=12)
    _set_test(client, pid, [(f"What is {i} times 7?", "42") for i in range(3)])
    page = client.get(f"/projects/{pid}/validations").text
    for name in ("processes", "strategy", "gradient_checkpointing", "load_in_4bit"):
        assert f'name="{name}"' in page, name
    form = {"seeds": "1", "train_examples": "4", "val_examples": "2", "batch_size": "2"}
    form |= {"processes": "2", "strategy": "ddp", "gradient_checkpointing": "true"}
    form["csrf_token"] = page_csrf(page)
    r = client.post(f"/projects/{pid}/validations", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    train = session.scalars(select(Validation)).one().spec["train"]
    assert (train["processes"], train["strategy"], train["gradient_checkpointing"]) == (
        2,
        "ddp",
        True,
    )
    assert train["load_in_4bit"] is False
    bad = client.post(f"/projects/{pid}/validations", data={**form, "strategy": "zero3"})
    assert bad.status_code == 422 and 'id="strategy-error"' in bad.text
