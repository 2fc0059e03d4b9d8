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
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402 - after the path, like the other benches

PACKAGED = "packaged:SmolLM2-135M-Instruct"
PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12, "A10": 125e12}
# Llama 3.2 1B and Llama 3 8B shapes (vocabulary 128256; the tokenizer uses its first 49152)
SHAPES: dict[str, dict[str, Any]] = {
    "1b": dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
               num_attention_heads=32, num_key_value_heads=8, vocab_size=128256,
               tie_word_embeddings=True),
    "8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
               num_attention_heads=32, num_key_value_heads=8, vocab_size=128256),
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, vocab_size=49152),
}  # fmt: skip


@dataclass
class Row:
    model: str
    backend: str
    task: str  # score | generate | lora_step | lora_step_2gpu
    tokens: int
    seconds: float
    params: int
    peak_mem_gb: float
    mfu: float | None

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


@dataclass
class Sizes:
    """How much work each row does."""

    n_items: int = 64
    prompt_len: int = 256
    response_len: int = 256
    n_prompts: int = 64
    max_new_tokens: int = 256
    train_batch: int = 8
    train_len: int = 512


SMOKE = Sizes(n_items=4, prompt_len=16, response_len=16, n_prompts=2, max_new_tokens=4,
              train_batch=2, train_len=32)  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--models", default="packaged,1b,8b", help="packaged, 1b, 8b, tiny")
    p.add_argument("--backends", default="transformers,vllm", help="transformers, vllm")
    p.add_argument("--cpu-smoke", action="store_true", help="tiny sizes on the CPU")
    p.add_argument("--peak-tflops", type=float, default=None, help="dense bf16 peak of the GPU")
    p.add_argument("--no-train", action="store_true", help="skip the LoRA steps")
    p.add_argument("--json", type=Path, default=None, help="also write the rows here")
    return p.parse_args(argv)


def peak_flops(device: str, given_tflops: float | None) -> float | None:
    if given_tflops:
        return given_tflops * 1e12
    if device != "cuda":
        return None
    name = torch.cuda.get_device_name(0)
    return next((v for k, v in PEAK_BF16.items() if k in name), None)


def reset_peak(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def peak_mem_gb(device: str, *, all_processes: bool = False) -> float:
    if device != "cuda":
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    torch.cuda.synchronize()
    if all_processes:
        free, total = torch.cuda.mem_get_info()
        return (total - free) / 2**30
    return torch.cuda.max_memory_allocated() / 2**30


def timed(fn: Callable[[], Any], device: str) -> tuple[Any, float]:
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return out, time.perf_counter() - t0


def packaged_tokenizer_folder(cache: Path) -> Path:
    from workers.modeling.sources import resolve_source

    return resolve_source(PACKAGED, cache).folder


def build_random(shape: str, tok_folder: Path, out_dir: Path, device: str, dtype: Any) -> Any:
    """A Llama-shaped model with random weights, saved (with the tokenizer) to ``out_dir``."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tok_folder)
    config = LlamaConfig(**SHAPES[shape], max_position_embeddings=4096,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)  # fmt: skip
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
        return backend.generate(prompts, max_new_tokens=sizes.max_new_tokens,
                                on_tokens=lambda _i, n: counted.append(n))  # fmt: skip

    texts, secs = timed(run, device)
    new = sum(counted) or sum(len(backend.tokenizer(t)["input_ids"]) for t in texts)
    rows.append(_row(label, backend, "generate", new, secs, params, ctx, 2))
    assert len(results) == len(items) and len(texts) == len(prompts)
    return rows


def _row(label: str, backend: Any, task: str, tokens: int, secs: float, params: int,
         ctx: dict, k: int) -> Row:  # fmt: skip
    server = backend.kind != "transformers"
    mem = peak_mem_gb(ctx["device"], all_processes=server)
    peak = ctx["peak"]
    mfu = k * params * tokens / secs / peak if peak and secs else None
    return Row(label, backend.kind, task, tokens, secs, params, mem, mfu)


def lora_step(model: Any, batch: torch.Tensor, steps: int = 1) -> tuple[float, Any]:
    """``steps`` LoRA optimizer steps on ``batch`` (causal LM loss on every token)."""
    from peft import LoraConfig, get_peft_model

    peft_model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16,
                                                  target_modules=["q_proj", "v_proj"]))  # fmt: skip
    peft_model.train()
    opt = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=2e-5)
    secs = 0.0
    for step in range(steps + 1):  # the first step warms up (kernels, allocator) untimed
        _, t = timed(lambda: _one_step(peft_model, opt, batch), str(batch.device.type))
        secs += t if step else 0.0
    peft_model.eval()
    return secs, peft_model.unload()


def _one_step(model: Any, opt: Any, batch: torch.Tensor) -> None:
    loss = model(input_ids=batch, labels=batch).loss
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)


def bench_lora(model: Any, label: str, params: int, sizes: Sizes, ctx: dict) -> Row:
    device = ctx["device"]
    vocab = model.config.vocab_size
    batch = torch.randint(100, min(vocab, 49152), (sizes.train_batch, sizes.train_len),
                          device=device)  # fmt: skip
    reset_peak(device)
    secs, _ = lora_step(model, batch)
    tokens = batch.numel()
    peak = ctx["peak"]
    mfu = 6 * params * tokens / secs / peak if peak and secs else None
    return Row(label, "transformers", "lora_step", tokens, secs, params, peak_mem_gb(device), mfu)


def _ddp_worker(rank: int, world: int, folder: str, sizes: Sizes, backend: str, out: str) -> None:
    import torch.distributed as dist
    from transformers import AutoModelForCausalLM

    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29517")
    dist.init_process_group(backend, rank=rank, world_size=world)
    device = f"cuda:{rank}" if backend == "nccl" else "cpu"
    if backend == "nccl":
        torch.cuda.set_device(rank)
    dtype = torch.bfloat16 if backend == "nccl" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(folder, torch_dtype=dtype).to(device)
    from peft import LoraConfig, get_peft_model

    peft_model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16,
                                                  target_modules=["q_proj", "v_proj"]))  # fmt: skip
    ddp = torch.nn.parallel.DistributedDataParallel(peft_model)
    opt = torch.optim.AdamW([p for p in ddp.parameters() if p.requires_grad], lr=2e-5)
    g = torch.Generator().manual_seed(rank)
    batch = torch.randint(100, 49152, (sizes.train_batch, sizes.train_len), generator=g)
    batch = batch.to(device)
    _one_step(ddp, opt, batch)  # warm-up
    dist.barrier()
    _, secs = timed(lambda: _one_step(ddp, opt, batch), device.split(":")[0])
    mem = torch.cuda.max_memory_allocated(rank) / 2**30 if backend == "nccl" else 0.0
    if rank == 0:
        Path(out).write_text(json.dumps({"seconds": secs, "tokens": batch.numel() * world,
                                         "peak_mem_gb": mem}))  # fmt: skip
    dist.destroy_process_group()


def bench_two(folder: Path, label: str, params: int, sizes: Sizes, ctx: dict) -> Row:
    """One LoRA step with DDP over 2 processes (2 GPUs with NCCL; 2 CPU processes with gloo)."""
    import torch.multiprocessing as mp

    backend = "nccl" if ctx["device"] == "cuda" else "gloo"
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "rank0.json")
        mp.spawn(_ddp_worker, args=(2, str(folder), sizes, backend, out), nprocs=2, join=True)
        got = json.loads(Path(out).read_text())
    peak = ctx["peak"]
    secs, tokens = got["seconds"], got["tokens"]
    mfu = 6 * params * tokens / secs / (2 * peak) if peak and secs else None
    task = "lora_step_2gpu" if backend == "nccl" else "lora_step_2proc"
    return Row(label, "transformers", task, tokens, secs, params, got["peak_mem_gb"], mfu)


def bench_server(model: str, label: str, params: int, sizes: Sizes, ctx: dict) -> list[Row]:
    """The same scoring and generation through the server backend, where it is registered."""
    from app.backends import backend_names
    from workers.backends import load_backend

    if "vllm" not in backend_names():
        print(f"{label}: no server backend registered (vllm); skipped", flush=True)
        return []
    backend = load_backend("vllm", model, cache_dir=ctx["cache"], dtype=ctx["dtype"],
                           device=ctx["device"])  # fmt: skip
    return bench_backend(backend, label, params, sizes, ctx)


def load_model(name: str, ctx: dict, tmp: Path) -> tuple[Any, Path, str]:
    """(transformers backend, folder a server can load, the model name for a backend)."""
    from workers.backends import load_backend
    from workers.backends.transformers import as_backend

    if name == "packaged":
        backend = load_backend("transformers", PACKAGED, cache_dir=ctx["cache"],
                               dtype=ctx["dtype"], device=ctx["device"])  # fmt: skip
        return backend, packaged_tokenizer_folder(ctx["cache"]), PACKAGED
    dtype = torch.bfloat16 if ctx["dtype"] == "bfloat16" else torch.float32
    folder = tmp / name
    model, tokenizer = build_random(name, packaged_tokenizer_folder(ctx["cache"]), folder,
                                    ctx["device"], dtype)  # fmt: skip
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
        print(f"{r.model:<14} {r.backend:<12} {r.task:<16} {r.tokens:>8} tok "
              f"{r.seconds:8.2f} s {r.tokens_per_s:10.1f} tok/s  peak {r.peak_mem_gb:6.2f} GiB  "
              f"MFU {mfu}", flush=True)  # fmt: skip
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
    print(f"device {ctx['device']} ({ctx['gpu']}, {torch.cuda.device_count()} GPU), "
          f"dtype {ctx['dtype']}, peak {ctx['peak'] or 'unknown'} FLOP/s, models {models}",
          flush=True)  # fmt: skip
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
