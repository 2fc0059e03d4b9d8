"""``TrainSettings``: how one LoRA fine-tuning run trains (issue 12, validation).

Torch-free, so the web process can build and validate it: the validation form, the JSON API,
``familiar validate`` and the worker all use this class, and the job stores it verbatim.
Bad values raise ``TrainingSettingsError`` with a message that names the field.

Defaults follow the research pipeline (Ren et al.; LLaMA-Factory underneath): LoRA rank 8 on
``q_proj``/``v_proj``, learning rate 2e-5, warm-up over the first 10% of the steps. The
research code never sets ``lora_alpha``, so LLaMA-Factory's default applies: twice the rank,
i.e. 16 for rank 8, which is the default here. LoRA dropout is LLaMA-Factory's default too:
0 (it was 0.05 here, which also cost 9% of a CPU training step in drawing the dropout masks).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from app.specs.errors import SpecInputError, field_messages, validation_message

PRECISIONS = ("auto", "float32", "bfloat16", "float16")
SELECT_BY = ("accuracy", "loss")


class TrainingSettingsError(SpecInputError):
    """Training cannot start with these settings; the message names the field."""


class TrainSettings(BaseModel):
    """Settings of one LoRA fine-tuning run (one strategy, one seed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    epochs: float = Field(
        default=1.0,
        gt=0,
        le=100,
        description="Passes over the training examples (fractions allowed).",
    )
    learning_rate: float = Field(
        default=2e-5,
        gt=0,
        le=1e-2,
        description="Peak learning rate (AdamW, linear decay after a 10% warm-up).",
    )
    warmup_ratio: float = Field(
        default=0.1,
        ge=0,
        le=0.5,
        description="Share of the steps over which the learning rate warms up from 0.",
    )
    lora_r: int = Field(default=8, ge=1, le=256, description="LoRA rank.")
    lora_alpha: int = Field(
        default=16,
        ge=1,
        le=1024,
        description="LoRA scaling numerator (the update is scaled by alpha / r); the "
        "research default is twice the rank.",
    )
    lora_dropout: float = Field(
        default=0.0,
        ge=0,
        le=0.5,
        description="Dropout on the LoRA input during training (the research default: none).",
    )
    target_modules: tuple[str, ...] = Field(
        default=("q_proj", "v_proj"),
        description="Names of the linear modules that get a LoRA adapter.",
    )
    max_length: int = Field(
        default=1024,
        ge=16,
        le=32768,
        description="Longest prompt + response trained on, in tokens; longer examples are "
        "cut at the end of the response (the cut ones are counted in the notes).",
    )
    batch_size: int = Field(
        default=8, ge=1, le=1024, description="Examples per optimizer step and device pass."
    )
    grad_accum: int = Field(
        default=1,
        ge=1,
        le=1024,
        description="Micro-batches accumulated per optimizer step (effective batch = "
        "batch_size x grad_accum).",
    )
    precision: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        default="auto",
        description="auto: bfloat16 where it is measurably faster on this hardware (as "
        "scans choose it), else float32. float16 needs a GPU.",
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="Seed of order and init.")
    eval_every: int = Field(
        default=0,
        ge=0,
        description="Optimizer steps between checkpoints (each one evaluated on the "
        "validation split); 0 = once per epoch.",
    )
    select_by: Literal["accuracy", "loss"] = Field(
        default="accuracy",
        description="How the best checkpoint is chosen: validation accuracy on generated "
        "answers, or validation loss.",
    )
    val_max_new_tokens: int = Field(
        default=320,
        ge=1,
        le=4096,
        description="Longest generated validation answer, in tokens.",
    )
    processes: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Training processes (one per GPU; on a CPU, gloo processes). 1 trains in "
        "the worker's own process; more launch a process group through torchrun and "
        "accelerate, each rank taking an equal share of every optimizer step's examples "
        "(the same global batch, so the same run).",
    )
    strategy: Literal["ddp", "fsdp"] = Field(
        default="ddp",
        description="How processes > 1 share the model: ddp (a full copy per GPU, gradients "
        "averaged) or fsdp (the base model sharded across GPUs, for targets that do not fit "
        "one GPU; needs CUDA).",
    )
    gradient_checkpointing: bool = Field(
        default=False,
        description="Recompute activations in the backward pass instead of keeping them: "
        "less memory for about a third more compute; the same loss.",
    )
    load_in_4bit: bool = Field(
        default=False,
        description="QLoRA: the frozen base model loaded in 4-bit NF4 (bitsandbytes), the "
        "LoRA weights in float32; needs a CUDA GPU and bitsandbytes. Runs in a training "
        "process of its own, which loads the model quantized.",
    )
    collective_timeout_s: int = Field(
        default=1800,
        ge=10,
        le=24 * 3600,
        description="With processes > 1: how long a rank waits for the others in a "
        "collective (gloo/NCCL timeout) before the group fails; covers rank 0's validation, "
        "which the other ranks wait for.",
    )

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise TrainingSettingsError(validation_message(exc), field_messages(exc)) from None

    @field_validator("target_modules", mode="before")
    @classmethod
    def _modules(cls, value: Any) -> tuple[str, ...]:
        names = (value,) if isinstance(value, str) else tuple(value or ())
        names = tuple(str(n).strip() for n in names)
        if not names or not all(names):
            raise ValueError("name at least one module, e.g. q_proj")
        if len(set(names)) != len(names):
            raise ValueError("each module may be named once")
        return names

    @model_validator(mode="after")
    def _split(self) -> TrainSettings:
        if (
            self.processes > 1
            and self.grad_accum % self.processes
            and (self.batch_size % self.processes)
        ):
            raise ValueError(
                f"processes: {self.processes} processes must split each optimizer step "
                f"evenly: make batch_size ({self.batch_size}) or grad_accum "
                f"({self.grad_accum}) a multiple of {self.processes}"
            )
        if self.strategy == "fsdp" and self.processes < 2:
            raise ValueError("strategy: fsdp shards the model across processes; set processes >= 2")
        return self

    @property
    def uses_launcher(self) -> bool:
        """Trains in child processes (``workers.training.distributed``), not in-process."""
        return self.processes > 1 or self.load_in_4bit

    @property
    def effective_batch(self) -> int:
        return self.batch_size * self.grad_accum

    @classmethod
    def help(cls) -> dict[str, str]:
        """Field name -> help text."""
        return {name: f.description or "" for name, f in cls.model_fields.items()}

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
