"""Errors of the typed specs: a message that names each field, and the same reasons by
field name, so that a form can show each one next to its box."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError


class SpecInputError(ValueError):
    """Bad spec values. ``fields`` maps a form field's name to its reason."""

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})

    @classmethod
    def of(cls, exc: ValidationError) -> SpecInputError:
        return cls(validation_message(exc), field_messages(exc))


def _reason(err: Mapping[str, object]) -> str:
    return str(err["msg"]).removeprefix("Value error, ")


def validation_message(exc: ValidationError) -> str:
    """ "field: reason; field: reason" from a pydantic error."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "spec"
        parts.append(f"{where}: {_reason(err)}")
    return "; ".join(parts)


def field_messages(exc: ValidationError) -> dict[str, str]:
    """{form field: reason}: a field is named by the innermost name of its location (the
    form's ``lora_r`` for ``train.lora_r``, ``strategy_ids`` for ``strategy_ids.0``); a nested
    spec that raised its own ``SpecInputError`` gives its fields."""
    out: dict[str, str] = {}
    for err in exc.errors():
        inner = (err.get("ctx") or {}).get("error")
        if isinstance(inner, SpecInputError) and inner.fields:  # a nested spec's own error
            out |= {k: v for k, v in inner.fields.items() if k not in out}
            continue
        names = [p for p in err["loc"] if isinstance(p, str)]
        out.setdefault(names[-1] if names else "spec", _reason(err))
    return out
