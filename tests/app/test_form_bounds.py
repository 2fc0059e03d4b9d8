"""Every number box of the scan, validation, test-set and playground forms takes its value,
min and max from the typed spec that checks what it sends (issue 19): the pages once wrote
``max="20"`` next to ``ScanSpec.samples``'s ``le=20``, so a changed bound left the form wrong."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import annotated_types as at
import pytest
from pydantic import BaseModel

from app.schemas.validations import HoldOut
from app.specs.form_fields import spec_field
from app.specs.playground import PlaygroundCreate
from app.specs.scan import ScanSpec
from app.specs.training import TrainSettings
from app.specs.validation import ValidationSpec
from tests.app.test_validations import _project, _set_test

N_QUESTIONS = 12  # each strategy answers the same 12 questions: 12 shared


class _Forms(HTMLParser):
    """The inputs and selects of each form on a page, by the form's action."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, dict[str, Any]]] = {}
        self._action = ""
        self._select: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._action = a.get("action") or ""
            self.forms.setdefault(self._action, {})
        elif tag in ("input", "textarea", "select") and a.get("name"):
            entry: dict[str, Any] = a | {"tag": tag, "options": []}
            self.forms.setdefault(self._action, {})[str(a["name"])] = entry
            self._select = entry if tag == "select" else None
        elif tag == "option" and self._select is not None:
            self._select["options"].append(a.get("value"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def _forms(html: str) -> dict[str, dict[str, dict[str, Any]]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def _number(form: dict[str, dict[str, Any]], name: str) -> tuple[str | None, ...]:
    field = form[name]
    assert field.get("type") == "number", name
    return field.get("min"), field.get("max"), field.get("value")


def _expected(model: type[BaseModel], name: str) -> tuple[str | None, ...]:
    f = spec_field(model, name)
    return tuple(None if v is None else str(v) for v in (f.minimum, f.maximum, f.default))


def _pages(client) -> dict[str, dict[str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    pid = _project(client, n=N_QUESTIONS)
    _set_test(client, pid, [(f"What is {i} times 7?", "42") for i in range(3)])
    forms = _forms(client.get(f"/projects/{pid}").text)
    forms |= _forms(client.get(f"/projects/{pid}/validations").text)
    forms |= _forms(client.get(f"/projects/{pid}/playground").text)
    return {
        "scan": forms[f"/projects/{pid}/scans"],
        "validation": forms[f"/projects/{pid}/validations"],
        "holdout": forms[f"/projects/{pid}/test-set/holdout"],
        "playground": forms[f"/projects/{pid}/playground"],
    }


SPECS: dict[str, tuple[type[BaseModel], ...]] = {
    "scan": (ScanSpec,),
    "validation": (ValidationSpec, TrainSettings),
    "holdout": (HoldOut,),
    "playground": (PlaygroundCreate,),
}


def _spec_of(form: str, name: str) -> type[BaseModel]:
    return next(m for m in SPECS[form] if name in m.model_fields)


def test_every_number_box_is_its_specs_field(client) -> None:  # type: ignore[no-untyped-def]
    pages = _pages(client)
    checked = set()
    for form, fields in pages.items():
        for name, attrs in fields.items():
            if attrs.get("type") != "number":
                continue
            low, high, value = _expected(_spec_of(form, name), name)
            if (form, name) == ("scan", "sample"):  # at most the questions every strategy shares
                high, value = str(N_QUESTIONS), str(min(int(value or 0), N_QUESTIONS))
            if (form, name) == ("scan", "pool"):  # at most the project's questions
                value = str(min(int(value or 0), N_QUESTIONS))
            assert _number(fields, name) == (low, high, value), (form, name)
            checked.add(name)
    assert checked >= {"samples", "pool", "seeds", "lora_r", "halving_first_steps", "n"}
    assert pages["validation"]["precision"]["options"] == list(
        spec_field(TrainSettings, "precision").choices
    )
    assert pages["scan"]["dtype"]["options"] == list(spec_field(ScanSpec, "dtype").choices)
    assert pages["scan"]["template"]["options"] == list(spec_field(ScanSpec, "template").choices)
    assert pages["validation"]["label"]["maxlength"] == "200"


def _bound(monkeypatch, model: type[BaseModel], name: str, *constraints: Any) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(model.model_fields[name], "metadata", list(constraints))


@pytest.mark.parametrize(
    "case",
    [
        ("scan", ScanSpec, "samples", (at.Ge(2), at.Le(7)), ("2", "7")),
        ("scan", ScanSpec, "max_new_tokens", (at.Ge(3), at.Le(999)), ("3", "999")),
        ("scan", ScanSpec, "seed", (at.Ge(5),), ("5", None)),
        ("validation", ValidationSpec, "seeds", (at.Ge(2), at.Le(4)), ("2", "4")),
        ("validation", TrainSettings, "lora_r", (at.Gt(1), at.Lt(64)), ("2", "63")),
        ("holdout", HoldOut, "n", (at.Ge(10), at.Le(50)), ("10", "50")),
        ("playground", PlaygroundCreate, "max_new_tokens", (at.Ge(8), at.Le(512)), ("8", "512")),
    ],
)
def test_a_changed_spec_bound_changes_the_form(client, monkeypatch, case) -> None:  # type: ignore[no-untyped-def]
    form, model, name, constraints, attrs = case
    _bound(monkeypatch, model, name, *constraints)
    assert _number(_pages(client)[form], name)[:2] == attrs


def test_a_changed_default_and_choices_change_the_form(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ScanSpec.model_fields["examples"], "default", 4)
    monkeypatch.setattr(HoldOut.model_fields["n"], "examples", [25])
    monkeypatch.setattr(ScanSpec.model_fields["dtype"], "json_schema_extra", {"enum": ["auto"]})
    pages = _pages(client)
    assert _number(pages["scan"], "examples")[2] == "4"
    assert _number(pages["holdout"], "n")[2] == "25"
    assert pages["scan"]["dtype"]["options"] == ["auto"]


def test_a_spec_field_reads_bounds_defaults_and_choices() -> None:
    samples = spec_field(ScanSpec, "samples")
    assert (samples.minimum, samples.maximum, samples.default) == (1, 20, 1)
    assert samples.bounds == ' min="1" max="20"' and samples.range_text == "1 to 20"
    assert samples.cli_help == f"{samples.help} (1 to 20)"
    epochs = spec_field(TrainSettings, "epochs")  # a float's gt has no inclusive min
    assert (epochs.minimum, epochs.maximum) == (None, 100)
    assert spec_field(TrainSettings, "precision").choices == (
        "auto",
        "float32",
        "bfloat16",
        "float16",
    )
    template = spec_field(ScanSpec, "template")
    assert template.choices == ("chat", "inst")
    assert template.cli_help.endswith("(one of chat, inst)")
    assert spec_field(HoldOut, "n").default == 100  # a required field: its example
    assert spec_field(ValidationSpec, "train").default == TrainSettings()


@pytest.mark.parametrize(("command", "model"), [("scan", ScanSpec), ("validate", ValidationSpec)])
def test_every_cli_option_of_a_spec_field_is_that_field(
    command: str, model: type[BaseModel]
) -> None:
    import typer

    from app.cli import cli

    params = typer.main.get_command(cli).commands[command].params  # type: ignore[attr-defined]
    # validate's --model defaults to DEFAULT_MODEL (no project yet), --train is JSON
    own = {"validate": ("model", "train")}.get(command, ())
    shown = {p.name: p for p in params if p.name in model.model_fields and p.name not in own}
    assert len(shown) >= 7
    for name, param in shown.items():
        f = spec_field(model, name)
        default = ",".join(f.default) if name == "metrics" else f.default
        assert param.default == default, name
        assert f.help in param.help and f.range_text in param.help, name
        assert all(choice in param.help for choice in f.choices), name
