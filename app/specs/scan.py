"""``ScanSpec``: what a familiarity scan computes and how.

The one spec of a scan: the web form, ``POST /api/v1/projects/{id}/scans``, ``familiar
scan`` and the worker all build this class, so their defaults cannot drift apart. Every
field carries its help text (``ScanSpec.help()``). Bad values raise ``ScanInputError`` with
a message that names the field (and suggests the closest valid choice on a typo).
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.backends import DEFAULT_BACKEND, backend_names
from app.ids import RowId
from app.metrics.registry import selectable
from app.specs.errors import SpecInputError, field_messages, validation_message

__all__ = ["ScanInputError", "ScanJobSpec", "ScanSpec", "suggest", "validation_message"]

DTYPE_NAMES = ("auto", "bfloat16", "float32")
GRADIENT_MODES = ("auto", "lora", "full")
TEMPLATE_NAMES = ("chat", "inst")


class ScanInputError(SpecInputError):
    """The scan cannot start with these settings or inputs; raised before any heavy work."""


def suggest(value: str, known: tuple[str, ...] | list[str]) -> str:
    """ "; did you mean 'x'?" for the closest known name, or ""."""
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""


def _choice(name: str, value: str, known: tuple[str, ...]) -> str:
    if value not in known:
        raise ValueError(
            f"unknown {name} {value!r}{suggest(value, known)} (one of {', '.join(known)})"
        )
    return value


class ScanSpec(BaseModel):
    """Settings of a familiarity scan."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metrics: tuple[str, ...] = Field(
        default=("ppl", "sppl", "ifd"),
        description="Metrics to compute: any registered metric a scan can ask for "
        "(built in: ppl, sppl, ifd; lower = more familiar; app.metrics.registry).",
    )
    sample: int = Field(
        default=50,
        ge=1,
        le=100_000,
        description="Questions scored per strategy: a seeded random sample of the questions "
        "answered by every strategy (the same questions for all strategies).",
    )
    samples: int = Field(
        default=1,
        ge=1,
        le=20,
        description="Disjoint question samples of `sample` questions each (seeded): each "
        "sample makes its own pick, and the page shows how often each strategy is the pick "
        "(the research used three disjoint 50-question samples).",
    )
    examples: int = Field(
        default=3,
        ge=1,
        le=5,
        description="SPPL: how many of the target's own correct answers go into each prompt "
        "(1 to 5).",
    )
    pool: int = Field(
        default=500,
        ge=2,
        le=100_000,
        description="SPPL: how many questions (the first ones with a gold answer) the target "
        "answers zero-shot to collect its own answers.",
    )
    template: str = Field(
        default="chat",
        json_schema_extra={"enum": list(TEMPLATE_NAMES)},
        description="chat: the target's own chat template; inst: the reference code's "
        "Llama-2 [INST] wrapping, for exact reproduction.",
    )
    dtype: str = Field(
        default="auto",
        json_schema_extra={"enum": list(DTYPE_NAMES)},
        description="auto: bfloat16 where it is faster on this hardware, else float32.",
    )
    seed: int = Field(
        default=0, ge=0, description="Seed of the question sample and of the bootstrap."
    )
    filter_correct: bool = Field(
        default=True,
        description="SPPL: keep only own answers that match the gold answer (the reference "
        "procedure).",
    )
    allow_unfiltered_fallback: bool = Field(
        default=False,
        description="SPPL: if too few own answers are correct, use unfiltered own answers "
        "(recorded with a warning) instead of failing.",
    )
    max_new_tokens: int = Field(
        default=320, ge=1, le=4096, description="SPPL: longest own answer generated, in tokens."
    )
    max_length: int | None = Field(
        default=None,
        ge=8,
        description="Longest prompt + response scored, in tokens (default: the model's "
        "limit); longer responses are cut at the end and flagged as truncated.",
    )
    judge: str = Field(
        default="auto",
        max_length=40,
        pattern=r"^[a-z0-9_\-]+$",
        description="How own answers are checked: auto (from the gold answers) or a judge "
        "name (numeric, choice, exact, ...).",
    )
    token_budget: int | None = Field(
        default=None,
        ge=64,
        description="Tokens per scoring batch (rows x sequence length); default 2048 on CPU, "
        "16384 on GPU; lower it if memory runs out.",
    )
    gradients: str = Field(
        default="auto",
        json_schema_extra={"enum": list(GRADIENT_MODES)},
        description="GRACE: whose gradients are projected: lora (the B matrices of a freshly "
        "initialised, seeded rank-16 LoRA adapter on the attention and MLP projections), full "
        "(every weight), or auto (full on a GPU, lora on a CPU); the result records which ran.",
    )
    projection_dim: int = Field(
        default=512,
        ge=2,
        le=8192,
        description="GRACE: dimension of the seeded Rademacher projection of each gradient.",
    )
    backend: str = Field(
        default=DEFAULT_BACKEND,
        max_length=40,
        description="What runs the target (app.backends): transformers (in this process) or "
        "another registered backend.",
    )
    model: str | None = Field(
        default=None,
        max_length=500,
        description="Target model: a Hugging Face id or a local folder (default: the "
        "project's target, or DEFAULT_MODEL for `familiar scan`).",
    )
    strategy_ids: list[RowId] | None = Field(
        default=None,
        description="Strategies of the project to scan (default: all but the strategy "
        "lab's sample-only ones).",
    )

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ScanInputError(validation_message(exc), field_messages(exc)) from None

    @field_validator("metrics", mode="before")
    @classmethod
    def _metrics(cls, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            names: tuple[Any, ...] = (value,)
        elif value is None or isinstance(value, list | tuple | set | frozenset):
            names = tuple(value or ())
        else:  # a number or an object is no list of names (it was a 500)
            raise ValueError(f"a list of metric names, such as {', '.join(selectable())}")
        if not names:
            raise ValueError(f"choose at least one of {', '.join(selectable())}")
        for name in names:
            _choice("metric", str(name), selectable())
        if len(set(names)) != len(names):
            raise ValueError("each metric may be named once")
        return tuple(m for m in selectable() if m in names)  # one canonical order

    @field_validator("backend")
    @classmethod
    def _backend(cls, value: str) -> str:
        return _choice("backend", value, backend_names())

    @field_validator("gradients")
    @classmethod
    def _gradients(cls, value: str) -> str:
        return _choice("gradient mode", value, GRADIENT_MODES)

    @field_validator("template")
    @classmethod
    def _template(cls, value: str) -> str:
        return _choice("template", value, TEMPLATE_NAMES)

    @field_validator("dtype")
    @classmethod
    def _dtype(cls, value: str) -> str:
        return _choice("dtype", value, DTYPE_NAMES)

    @classmethod
    def help(cls) -> dict[str, str]:
        """Field name -> help text."""
        return {name: f.description or "" for name, f in cls.model_fields.items()}

    @classmethod
    def default(cls, name: str) -> Any:
        """The default of one field (the CLI and the form take theirs from here)."""
        return cls.model_fields[name].default

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ScanJobSpec(ScanSpec):
    """The scan job's spec: the scan's settings (model and strategies resolved) and its row."""

    scan_id: int

    def scan_spec(self) -> ScanSpec:
        """The scan's settings alone (what the scan core takes)."""
        return ScanSpec(**self.model_dump(exclude={"scan_id"}))
