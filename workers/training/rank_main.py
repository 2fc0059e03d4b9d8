"""One rank of a training process group: ``python -m workers.training.rank_main SPEC.json``,
started by torchrun from ``workers.training.distributed`` (never by hand).

Each rank loads the target itself from the same source and model cache the worker uses
(``workers.modeling.sources.resolve_source``; a loaded model is never pickled across), on
``cuda:<LOCAL_RANK>`` or the CPU, 4-bit when asked, and runs the same ``train_adapter`` as
the in-process path; the Trainer's accelerate turns the torchrun environment into a DDP (or
FSDP) group. Rank 0 alone talks to the parent over the relay socket: each step, each
checkpoint, the cancel question and the validation judge go there, and its last message
says how the run ended. The other ranks only train and save their RNG state.
"""

from __future__ import annotations

import json
import sys
import traceback
from multiprocessing.connection import Client
from pathlib import Path
from typing import Any

from app.specs.training import TrainSettings
from workers.training.hardware import world
from workers.training.types import Example, TrainingCancelled, TrainingError, ValExample


class Relay:
    """Rank 0's line to the parent: callbacks in, answers back."""

    def __init__(self, address: str, key: bytes) -> None:
        self.conn = Client(address, family="AF_UNIX", authkey=key)

    def ask(self, *message: Any) -> Any:
        self.conn.send(message)
        return self.conn.recv()

    def tell(self, *message: Any) -> None:
        self.conn.send(message)

    def should_stop(self) -> bool:
        return bool(self.ask("stop?"))

    def score(self, output: str, gold: str) -> bool:
        return bool(self.ask("score", output, gold))


def _no_judge(output: str, gold: str) -> bool:
    raise RuntimeError("only rank 0 validates")


def load_model(spec: dict[str, Any], local_rank: int) -> tuple[Any, Any]:
    """The target's model and tokenizer, loaded in this process (4-bit when asked)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from workers.modeling.dtypes import DTYPES
    from workers.modeling.sources import resolve_source

    source = resolve_source(spec["model"], Path(spec["cache_dir"]))
    dtype = DTYPES[spec["dtype"]]
    kwargs: dict[str, Any] = {"dtype": dtype, "local_files_only": True}
    on_gpu = spec["device"].startswith("cuda")
    device = torch.device("cuda", local_rank) if on_gpu else torch.device("cpu")
    if on_gpu:
        torch.cuda.set_device(device)
    if spec["settings"].get("load_in_4bit"):
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_compute_dtype=torch.bfloat16,
            bnb_4bit_use_double_quant=True,
        )
        kwargs["device_map"] = {"": device}
    tokenizer = AutoTokenizer.from_pretrained(source.folder, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(source.folder, **kwargs)
    if "quantization_config" not in kwargs:
        model.to(device)
    return model.eval().requires_grad_(False), tokenizer


def run(spec: dict[str, Any]) -> int:
    import os

    import torch

    from workers.training.trainer import train_adapter

    rank, _ = world()
    torch.set_num_threads(int(spec.get("threads") or torch.get_num_threads()))
    relay = Relay(spec["address"], bytes.fromhex(spec["key"])) if rank == 0 else None
    try:
        model, tokenizer = load_model(spec, int(os.environ.get("LOCAL_RANK", "0")))
        result = train_adapter(
            model,
            tokenizer,
            [Example(**e) for e in spec["train"]],
            [ValExample(**v) for v in spec["val"]],
            TrainSettings(**spec["settings"]),
            Path(spec["out_dir"]),
            score=relay.score if relay else _no_judge,
            on_step=(lambda log: relay.tell("step", log)) if relay else None,
            on_checkpoint=(lambda log: relay.tell("checkpoint", log)) if relay else None,
            should_stop=relay.should_stop if relay else None,
            until_step=spec.get("until_step"),
        )
    except TrainingCancelled as exc:
        if relay:
            relay.tell("cancelled", exc.step, exc.last)
        return 0
    except TrainingError as exc:
        if relay:
            relay.tell("error", type(exc).__name__, str(exc))
        return 1
    except Exception:  # noqa: BLE001 - the parent shows it; torchrun ends the other ranks
        if relay:  # often only the echo of another rank's death: the parent decides
            relay.tell("error", "crash", traceback.format_exc(limit=4))
        raise
    if relay:
        relay.tell("done", result)
    return 0


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    return run(spec)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
