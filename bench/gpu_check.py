"""One script for a GPU machine: throughput, memory and MFU of the target's model work.

For each model (the packaged SmolLM2-135M-Instruct, and Llama-shaped 1B and 8B models with
random weights built from a ``LlamaConfig``: nothing to download; saved to a temp folder so
a vLLM server can load them, with the packaged model's tokenizer):

- scoring (``ModelBackend.score``) and greedy generation (``ModelBackend.generate``) on the
  transformers backend, and on the server backend (``load_backend("vllm", ...)``) where it
  is registered (an external server at INFERENCE_URL, or one the backend manages);
- one LoRA training step (peft, r=8 on q_proj/v_proj, AdamW; the step the trainer runs);
- a LoRA step on 2 GPUs (DDP, NCCL, one process per GPU) where there are two.

Each row prints tokens/s, peak memory and model FLOP utilisation: MFU = k * params *
tokens / seconds / peak, with k = 6 for training (forward + backward) and 2 for inference,
params = all parameters of the model (embeddings included), peak = the GPU's dense bf16
FLOP/s (H100/H200: 989 TFLOP/s; ``--peak-tflops`` for others). Peak memory: the largest
``torch.cuda.max_memory_allocated`` of this process; for a server row the GPU memory in use
by every process (the server holds its own). On a CPU: peak resident memory, no MFU.

``--cpu-smoke`` runs the same code on a CPU with tiny sizes (the packaged model and a tiny
random Llama; the 2-process step with gloo), so the script is tested without a GPU.
Run on a GPU machine: python bench/gpu_check.py [--models packaged,1b,8b]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402 - after the path, like the other benches

from bench.gpu_measure import (  # noqa: E402
    SMOKE,
    Row,
    Sizes,
    mfu,
    peak_flops,
    peak_mem_gb,
    reset_peak,
    timed,
)
from bench.gpu_train import bench_lora, bench_two  # noqa: E402

PACKAGED = "packaged:SmolLM2-135M-Instruct"
# Llama 3.2 1B and Llama 3 8B shapes (vocabulary 128256; the tokenizer uses its first 49152)
SHAPES: dict[str, dict[str, Any]] = {
    "1b": dict(
        hidden_size=2048,
        intermediate_size=8192,
        num_hidden_layers=16,
        num_attention_heads=32,
        num_key_value_heads=8,
        vocab_size=128256,
        tie_word_embeddings=True,
    ),
    "8b": dict(
        hidden_size=4096,
        intermediate_size=14336,
        num_hidden_layers=32,
        num_attention_heads=32,
        num_key_value_heads=8,
        vocab_size=128256,
    ),
    "tiny": dict(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=49152,
    ),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--models", default="packaged,1b,8b", help="packaged, 1b, 8b, tiny")
    p.add_argument("--backends", default="transformers,vllm", help="transformers, vllm")
    p.add_argument("--cpu-smoke", action="store_true", help="tiny sizes on the CPU")
    p.add_argument("--peak-tflops", type=float, default=None, help="dense bf16 peak of the GPU")
    p.add_argument("--no-train", action="store_true", help="skip the LoRA steps")
    p.add_argument("--json", type=Path, default=None, help="also write the rows here")
    return p.parse_args(argv)


def packaged_tokenizer_folder(cache: Path) -> Path:
    from workers.modeling.sources import resolve_source

    return resolve_source(PACKAGED, cache).folder


def build_random(shape: str, tok_folder: Path, out_dir: Path, device: str, dtype: Any) -> Any:
    """A Llama-shaped model with random weights, saved (with the tokenizer) to ``out_dir``."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tok_folder)
    config = LlamaConfig(
        **SHAPES[shape],
        max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM._from_config(config, torch_dtype=dtype)
    model.eval()
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return model, tokenizer


def random_ids(n: int, length: int, vocab: int, seed: int) -> list[tuple[int, ...]]:
    g = torch.Generator().manual_seed(seed)
    return [tuple(torch.randint(100, vocab, (length,), generator=g).tolist()) for _ in range(n)]


def bench_backend(backend: Any, label: str, params: int, sizes: Sizes, ctx: dict) -> list[Row]:
    """Scoring and generation through the ``ModelBackend`` protocol."""
    from workers.scoring.items import ScoreItem

    device, vocab = ctx["device"], len(backend.tokenizer)
    prefixes = random_ids(sizes.n_items, sizes.prompt_len, vocab, 1)
    responses = random_ids(sizes.n_items, sizes.response_len, vocab, 2)
    items = [ScoreItem(p, r) for p, r in zip(prefixes, responses, strict=True)]
    reset_peak(device)
    results, secs = timed(lambda: backend.score(items), device)
    tokens = sum(len(i.prefix_ids) + len(i.response_ids) for i in items)
    rows = [_row(label, backend, "score", tokens, secs, params, ctx, 2)]
    counted: list[int] = []
    prompts = random_ids(sizes.n_prompts, sizes.prompt_len, vocab, 3)
    reset_peak(device)

    def run() -> list[str]:
        return backend.generate(
            prompts, max_new_tokens=sizes.max_new_tokens, on_tokens=lambda _i, n: counted.append(n)
        )

    texts, secs = timed(run, device)
    new = sum(counted) or sum(len(backend.tokenizer(t)["input_ids"]) for t in texts)
    rows.append(_row(label, backend, "generate", new, secs, params, ctx, 2))
    assert len(results) == len(items) and len(texts) == len(prompts)
    return rows


def _row(
    label: str, backend: Any, task: str, tokens: int, secs: float, params: int, ctx: dict, k: int
) -> Row:
    server = backend.kind != "transformers"
    mem = peak_mem_gb(ctx["device"], all_processes=server)
    return Row(
        label,
        backend.kind,
        task,
        tokens,
        secs,
        params,
        mem,
        mfu(k, params, tokens, secs, ctx["peak"]),
    )


def bench_server(model: str, label: str, params: int, sizes: Sizes, ctx: dict) -> list[Row]:
    """The same scoring and generation through the server backend, where it is registered."""
    from app.backends import backend_names
    from workers.backends import load_backend

    if "vllm" not in backend_names():
        print(f"{label}: no server backend registered (vllm); skipped", flush=True)
        return []
    backend = load_backend(
        "vllm", model, cache_dir=ctx["cache"], dtype=ctx["dtype"], device=ctx["device"]
    )
    return bench_backend(backend, label, params, sizes, ctx)


def load_model(name: str, ctx: dict, tmp: Path) -> tuple[Any, Path, str]:
    """(transformers backend, folder a server can load, the model name for a backend)."""
    from workers.backends import load_backend
    from workers.backends.transformers import as_backend

    if name == "packaged":
        backend = load_backend(
            "transformers",
            PACKAGED,
            cache_dir=ctx["cache"],
            dtype=ctx["dtype"],
            device=ctx["device"],
        )
        return backend, packaged_tokenizer_folder(ctx["cache"]), PACKAGED
    dtype = torch.bfloat16 if ctx["dtype"] == "bfloat16" else torch.float32
    folder = tmp / name
    model, tokenizer = build_random(
        name, packaged_tokenizer_folder(ctx["cache"]), folder, ctx["device"], dtype
    )
    return as_backend(model, tokenizer), folder, str(folder)


def run_model(name: str, args: argparse.Namespace, sizes: Sizes, ctx: dict) -> list[Row]:
    backends = set(args.backends.split(","))
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix=f"gpu-check-{name}-") as tmp:
        backend, folder, model_name = load_model(name, ctx, Path(tmp))
        label = "packaged-135M" if name == "packaged" else f"random-{name}"
        params = sum(p.numel() for p in backend.model.parameters())
        if "transformers" in backends:
            rows += _report(bench_backend(backend, label, params, sizes, ctx))
        if not args.no_train:
            rows += _report([bench_lora(backend.model, label, params, sizes, ctx)])
            if ctx["two"]:
                rows += _report([bench_two(folder, label, params, sizes, ctx)])
        del backend
        _free_memory(ctx["device"])
        if "vllm" in backends:
            rows += _report(bench_server(model_name, label, params, sizes, ctx))
    return rows


def _free_memory(device: str) -> None:
    import gc

    from workers.modeling.loader import clear_target_cache

    clear_target_cache()
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()


def _report(rows: list[Row]) -> list[Row]:
    for r in rows:
        mfu = f"{100 * r.mfu:.1f}%" if r.mfu is not None else "n/a"
        print(
            f"{r.model:<14} {r.backend:<12} {r.task:<16} {r.tokens:>8} tok "
            f"{r.seconds:8.2f} s {r.tokens_per_s:10.1f} tok/s  peak {r.peak_mem_gb:6.2f} GiB  "
            f"MFU {mfu}",
            flush=True,
        )
    return rows


def machine(args: argparse.Namespace) -> dict[str, Any]:
    from app.config import get_settings

    device = "cpu" if args.cpu_smoke or not torch.cuda.is_available() else "cuda"
    two = torch.cuda.device_count() >= 2 if device == "cuda" else args.cpu_smoke
    return {
        "device": device,
        "dtype": "bfloat16" if device == "cuda" else "float32",
        "peak": peak_flops(device, args.peak_tflops),
        "two": two,
        "cache": get_settings().models_dir,
        "gpu": torch.cuda.get_device_name(0) if device == "cuda" else "none",
    }


def main(argv: list[str] | None = None) -> list[Row]:
    args = parse_args(argv)
    models = args.models.split(",")
    if args.cpu_smoke:
        models = list(dict.fromkeys("tiny" if m in ("1b", "8b") else m for m in models))
    unknown = [m for m in models if m not in ("packaged", *SHAPES)]
    if unknown:
        raise SystemExit(f"unknown model {unknown[0]!r}: one of packaged, {', '.join(SHAPES)}")
    ctx = machine(args)
    sizes = SMOKE if args.cpu_smoke else Sizes()
    print(
        f"device {ctx['device']} ({ctx['gpu']}, {torch.cuda.device_count()} GPU), "
        f"dtype {ctx['dtype']}, peak {ctx['peak'] or 'unknown'} FLOP/s, models {models}",
        flush=True,
    )
    rows: list[Row] = []
    for name in models:
        rows += run_model(name, args, sizes, ctx)
    out = [{**asdict(r), "tokens_per_s": r.tokens_per_s} for r in rows]
    print(json.dumps({"device": ctx["device"], "gpu": ctx["gpu"], "rows": out}), flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return rows


if __name__ == "__main__":
    main()
