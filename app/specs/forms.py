"""A typed spec from an HTML form: every default, bound and help text stays the spec's.

``spec_fields(Model, form)`` reads the form's values of ``Model``'s fields by their names
and converts each by the field's annotation (numbers, booleans from checkboxes, lists from
repeated or comma-separated values). A field the form leaves empty keeps the spec's default,
except an optional one, which becomes None (an emptied "at most N" box means no limit). The
spec then checks every bound and names the field it refuses; ``FormState`` carries the
values as typed and each refusal by field, so a refused form comes back with both.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

TRUE = frozenset({"true", "on", "1", "yes"})


def spec_fields(
    model: type[BaseModel], form: Mapping[str, Sequence[str]], *, skip: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``{field: value}`` for the fields of ``model`` the form holds (``form[name]`` is the
    list of values sent under that name)."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        values = [v.strip() for v in form.get(name, []) if isinstance(v, str)]
        if name in skip or not values:
            continue
        annotation, optional = _unwrap(info.annotation)
        if typing.get_origin(annotation) in (list, tuple):
            (item,) = typing.get_args(annotation)[:1] or (str,)
            parts = [p for v in values for p in v.split(",") if p.strip()]
            out[name] = [_scalar(_unwrap(item)[0], p.strip()) for p in parts]
        elif values[-1] == "":
            if optional:
                out[name] = None
        else:
            out[name] = _scalar(annotation, values[-1])
    return out


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``Annotated`` and ``| None``, and whether None was allowed."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation, optional
        else:
            return annotation, optional


def _scalar(annotation: Any, raw: str) -> Any:
    """A form text as the field's type; what does not convert goes to the spec as text, so
    the spec's own error names the field."""
    try:
        if annotation is bool:
            return raw.lower() in TRUE
        if annotation is int:
            return int(raw)
        if annotation is float:
            return float(raw)
    except ValueError:
        return raw
    return raw


@dataclass(frozen=True)
class FormState:
    """A form as sent back: the values as typed, each reason next to its field, and what
    belongs to no field of the form above it. The blank state shows the defaults."""

    values: Mapping[str, Sequence[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None

    @classmethod
    def refused(cls, exc: Exception, values: Mapping[str, Sequence[str]]) -> FormState:
        """The state of a form that `exc` (a spec's or a service's error) refused."""
        fields: dict[str, str] = dict(getattr(exc, "fields", None) or {})
        if isinstance(exc, ValidationError):  # a pydantic model's own bounds, by field
            for e in exc.errors():
                name = str(e["loc"][0]) if e["loc"] else "input"
                fields[name] = "; ".join(filter(None, [fields.get(name), e["msg"]]))
        if not fields and (name := getattr(exc, "field", None)):
            fields = {name: str(exc).removeprefix(f"{name}: ")}
        shown = {k: v for k, v in fields.items() if k in values}
        rest = "; ".join(f"{k}: {v}" for k, v in fields.items() if k not in values)
        return cls(values, shown, rest or (None if shown else str(exc)))

    def value(self, name: str, default: Any = "") -> Any:
        """What was typed in the field, else `default`."""
        typed = self.values.get(name)
        return typed[-1] if typed else default

    def chosen(self, name: str, option: str, default: bool) -> bool:
        """Whether a checkbox, radio or option was chosen: as sent, else `default`."""
        if not self.values:
            return default
        return option in self.values.get(name, ())
