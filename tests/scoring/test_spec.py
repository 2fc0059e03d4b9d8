"""ScanSpec validation: clear errors naming the field, with suggestions."""

from __future__ import annotations

import pytest

from app.specs.scan import ScanInputError, ScanSpec


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metrics": ("ppl", "spl")}, "did you mean 'sppl'"),
        ({"metrics": ()}, "at least one"),
        ({"metrics": ("ppl", "ppl")}, "once"),
        ({"metrics": -19650}, "a list of metric names"),  # the OpenAPI fuzz's 500
        ({"metrics": {"ppl": 1}}, "a list of metric names"),
        ({"sample": 0}, "sample"),
        ({"examples": 0}, "examples"),
        ({"examples": 6}, "examples"),
        ({"pool": 1}, "pool"),
        ({"template": "chta"}, "did you mean 'chat'"),
        ({"dtype": "bf16"}, "did you mean 'bfloat16'"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"max_length": 4}, "max_length"),
        ({"token_budget": 10}, "token_budget"),
    ],
)
def test_invalid_specs(kwargs: dict, message: str) -> None:
    with pytest.raises(ScanInputError, match=message):
        ScanSpec(**kwargs)


def test_defaults_and_dict() -> None:
    spec = ScanSpec(metrics=["sppl"])  # lists are accepted and frozen into tuples
    assert spec.metrics == ("sppl",)
    assert spec.to_dict()["metrics"] == ["sppl"]
    assert (spec.sample, spec.examples, spec.pool, spec.template) == (50, 3, 500, "chat")


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ScanInputError, match="sampels"):
        ScanSpec(sampels=3)


def test_samples_are_bounded() -> None:
    assert ScanSpec().samples == 1 and ScanSpec(samples=3).samples == 3
    with pytest.raises(ScanInputError, match="samples"):
        ScanSpec(samples=0)


def test_every_field_has_help() -> None:
    assert all(text for text in ScanSpec.help().values())
