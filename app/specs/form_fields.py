"""A spec field as a form or the CLI shows it: its default, bounds, help text and choices.

Read from the pydantic model each time it is asked (``model_fields``: the field's default,
its ``ge``/``gt``/``le``/``lt`` and ``max_length`` constraints, its description, its
``Literal`` values or its schema's ``enum``), so a form's ``min``/``max``/``value`` and the
CLI's help cannot drift from the spec that checks what is sent. Templates reach the specs'
fields as ``specs.scan.samples.bounds`` (``app.web`` puts ``specs`` in their globals).
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

import annotated_types as at
from markupsafe import Markup, escape
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from app.specs.forms import _unwrap


@dataclass(frozen=True)
class SpecField:
    """One field of a spec, as forms and the CLI show it."""

    name: str
    default: Any  # the spec's default; a required field's first example (a suggestion)
    minimum: int | float | None  # inclusive, as HTML's min (an int field's gt=0 is min 1)
    maximum: int | float | None
    max_length: int | None
    help: str
    choices: tuple[str, ...]

    @property
    def bounds(self) -> Markup:
        """`` min="1" max="20"`` (or `` maxlength="200"``) for the field's <input>."""
        attrs = {"min": self.minimum, "max": self.maximum, "maxlength": self.max_length}
        return Markup("".join(f' {k}="{escape(v)}"' for k, v in attrs.items() if v is not None))

    @property
    def range_text(self) -> str:
        """The bounds in words: "1 to 20", "at least 0", "at most 5", or ""."""
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            return f"{low} to {high}"
        if low is not None:
            return f"at least {low}"
        return f"at most {high}" if high is not None else ""

    @property
    def cli_help(self) -> str:
        """The help text with the bounds or choices after it, for a command-line option (in
        round brackets: Typer's rich help would read square ones as markup)."""
        if self.choices:
            return f"{self.help} (one of {', '.join(self.choices)})"
        return f"{self.help} ({self.range_text})" if self.range_text else self.help


def spec_field(model: type[BaseModel], name: str) -> SpecField:
    """``model``'s field ``name`` as a form or the CLI shows it."""
    info = model.model_fields[name]
    annotation, _ = _unwrap(info.annotation)
    whole = annotation is int
    low: int | float | None = None
    high: int | float | None = None
    max_length = None
    for c in info.metadata:
        if isinstance(c, at.Ge):
            low = _larger(low, c.ge)
        elif isinstance(c, at.Gt) and whole:
            low = _larger(low, c.gt + 1)
        elif isinstance(c, at.Le):
            high = _smaller(high, c.le)
        elif isinstance(c, at.Lt) and whole:
            high = _smaller(high, c.lt - 1)
        elif isinstance(c, at.MaxLen) and annotation is str:
            max_length = c.max_length
    return SpecField(
        name=name,
        default=_default(info),
        minimum=low,
        maximum=high,
        max_length=max_length,
        help=info.description or "",
        choices=_choices(annotation, info.json_schema_extra),
    )


def _larger(a: Any, b: Any) -> Any:
    return b if a is None else max(a, b)


def _smaller(a: Any, b: Any) -> Any:
    return b if a is None else min(a, b)


def _default(info: Any) -> Any:
    if info.default is not PydanticUndefined:
        return info.default
    if info.default_factory is not None:
        return info.default_factory()
    return info.examples[0] if info.examples else None


def _choices(annotation: Any, extra: Any) -> tuple[str, ...]:
    """A ``Literal``'s values, else the ``enum`` its schema names, else none."""
    if typing.get_origin(annotation) is typing.Literal:
        return tuple(str(v) for v in typing.get_args(annotation))
    if isinstance(extra, dict) and isinstance(extra.get("enum"), list | tuple):
        return tuple(str(v) for v in extra["enum"])
    return ()


class SpecFields:
    """The fields of one spec by name, for templates: ``fields.samples.bounds``."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model

    def __getattr__(self, name: str) -> SpecField:
        if name.startswith("_") or name not in self.model.model_fields:
            raise AttributeError(f"{self.model.__name__} has no field {name!r}")
        return spec_field(self.model, name)

    __getitem__ = __getattr__
