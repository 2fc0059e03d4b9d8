"""The training rows of bench/gpu_check.py: one LoRA step, and one over 2 processes (DDP)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from bench.gpu_measure import Row, Sizes, mfu, peak_mem_gb, reset_peak, timed


def lora_step(model: Any, batch: torch.Tensor, steps: int = 1) -> tuple[float, Any]:
    """``steps`` LoRA optimizer steps on ``batch`` (causal LM loss on every token)."""
    from peft import LoraConfig, get_peft_model

    peft_model = get_peft_model(
        model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"])
    )
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
    batch = torch.randint(
        100, min(vocab, 49152), (sizes.train_batch, sizes.train_len), device=device
    )
    reset_peak(device)
    secs, _ = lora_step(model, batch)
    tokens = batch.numel()
    util = mfu(6, params, tokens, secs, ctx["peak"])
    return Row(label, "transformers", "lora_step", tokens, secs, params, peak_mem_gb(device), util)


def _ddp_worker(rank: int, world: int, folder: str, sizes: Sizes, backend: str, out: str) -> None:
    import torch.distributed as dist
    from transformers import AutoModelForCausalLM

    dist.init_process_group(backend, rank=rank, world_size=world)
    device = f"cuda:{rank}" if backend == "nccl" else "cpu"
    if backend == "nccl":
        torch.cuda.set_device(rank)
    dtype = torch.bfloat16 if backend == "nccl" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(folder, torch_dtype=dtype).to(device)
    from peft import LoraConfig, get_peft_model

    peft_model = get_peft_model(
        model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"])
    )
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
        Path(out).write_text(
            json.dumps({"seconds": secs, "tokens": batch.numel() * world, "peak_mem_gb": mem})
        )
    dist.destroy_process_group()


def bench_two(folder: Path, label: str, params: int, sizes: Sizes, ctx: dict) -> Row:
    """One LoRA step with DDP over 2 processes (2 GPUs with NCCL; 2 CPU processes with gloo)."""
    import torch.multiprocessing as mp

    from workers.inference_server.launch import free_port

    backend = "nccl" if ctx["device"] == "cuda" else "gloo"
    os.environ["MASTER_ADDR"] = "127.0.0.1"  # the spawned ranks inherit them
    os.environ["MASTER_PORT"] = str(free_port())
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "rank0.json")
        mp.spawn(_ddp_worker, args=(2, str(folder), sizes, backend, out), nprocs=2, join=True)
        got = json.loads(Path(out).read_text())
    peak = 2 * ctx["peak"] if ctx["peak"] else None  # two GPUs
    secs, tokens = got["seconds"], got["tokens"]
    task = "lora_step_2gpu" if backend == "nccl" else "lora_step_2proc"
    util = mfu(6, params, tokens, secs, peak)
    return Row(label, "transformers", task, tokens, secs, params, got["peak_mem_gb"], util)
