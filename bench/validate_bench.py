"""Benchmark: one small validation, Familiar's way vs the research pipeline's way.

2 strategies (GSM8K ground truth ``train_filtered.json`` and GPT-4o ``gpt4.json``) x 1 seed
with the packaged SmolLM2-135M-Instruct: LoRA-train on the same ``--train`` questions for
the same number of steps, then answer the same ``--test`` GSM8K test questions greedily.

(a) Familiar, in this process, as a worker runs a job (``reusing_freed_memory``): the model
    loaded once; ``workers.training.train_adapter`` (length-grouped batches, the resolved
    precision, the LM head on response positions only, plain attention on a CPU); evaluation
    by ``workers.scoring.generate.generate_greedy`` (batched, sorted by length, KV cache,
    finished rows dropped).
(b) The research pipeline's shape: one process per strategy, the model loaded each time,
    the transformers ``Trainer`` on right-padded batches in random order (no packing, no
    length grouping), evaluation by one ``generate`` call per question. Same dtype, same
    LoRA settings, same examples, same steps, same test questions.

Printed: both wall times and their ratio; training tokens/s (tokens through the model,
padding excluded, over the training steps' own time); evaluation tokens/s (generated
tokens over generation time); and the share of the machine's measured matmul rate the
training reaches, at 4 x parameters FLOPs per trained token (LoRA: forward 2N, backward
through the frozen weights 2N, no weight gradients), against ``F.linear``'s rate
(``workers.modeling.dtypes.linear_rate``) in the dtype the training ran in, measured
before and after and taken at the higher (on a shared machine it swings).
Answers are scored by the last number against gold, to 2 decimals. The two accuracies need
not be equal: (a) and (b) see the same examples in a different batch order (length-grouped
against random), so they train slightly different adapters; generation itself is the same
(batched answers equal one-by-one ``generate`` calls in float32,
``tests/evaluation/test_run.py``). In bfloat16, padding changes the rounding of a batched
row, so a near-tie can go the other way there.
Last line: one JSON object.

Measured on the 2-core AMD EPYC (AVX512-BF16, so "auto" is bfloat16; F.linear 840-920
GFLOP/s in bfloat16, 188 in float32), defaults, nothing else running: bfloat16 3.60x,
767 training tokens/s = 44.9% of the matmul rate, 153 generated tokens/s (research 363 and
37); ``--precision float32`` (what "auto" picks on an AVX2-only CPU) 2.32x, 277 tokens/s =
79.1% of the float32 rate. Before the three training changes of December (freed memory
kept, plain attention, LoRA dropout 0): bfloat16 2.29x, 518 tokens/s = 33.3%.

    flock /tmp/cpu.lock .venv/bin/python bench/validate_bench.py [--train 32] [--test 16]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.specs.training import TrainSettings  # noqa: E402
from tests.paths import GSM8K_DIR  # noqa: E402
from workers.modeling import load_target  # noqa: E402
from workers.modeling.dtypes import linear_rate  # noqa: E402
from workers.modeling.memory import reusing_freed_memory  # noqa: E402
from workers.scoring.generate import generate_greedy, stop_ids  # noqa: E402
from workers.scoring.prompts import chat_prompt_text, encode  # noqa: E402
from workers.training import Example, encode_example, load_adapter, train_adapter  # noqa: E402

PACKAGED = "packaged:SmolLM2-135M-Instruct"
STRATEGIES = ("train_filtered", "gpt4")
INSTRUCTION = "\n\nPlease provide the final answer (a number) at the end, after 'Final Answer:'\n"
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--train", type=int, default=32, help="training examples per strategy")
    p.add_argument("--test", type=int, default=16, help="test questions")
    p.add_argument("--batch", type=int, default=8, help="examples per optimizer step")
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--precision", default="auto")
    p.add_argument("--cache-dir", type=Path, default=ROOT / ".familiar" / "test-models")
    p.add_argument("--baseline-one", help=argparse.SUPPRESS)  # (b): one strategy, this process
    return p.parse_args()


def last_number_correct(output: str, gold: str) -> bool:
    found = _NUMBER.findall(output.replace("$", ""))
    if not found:
        return False
    try:
        return round(float(found[-1].replace(",", "")), 2) == round(float(gold), 2)
    except ValueError:
        return False


def load_data(n_train: int, n_test: int) -> tuple[dict[str, list[Example]], list[tuple[str, str]]]:
    gpt4 = json.loads((GSM8K_DIR / "gpt4.json").read_text())[:n_train]
    truth = json.loads((GSM8K_DIR / "train_filtered.json").read_text())[:n_train]
    for a, b in zip(gpt4, truth, strict=True):  # the files list the same questions in order
        assert a["question"].startswith(b["question"][:60]), (a["question"], b["question"])
    train = {
        "gpt4": [Example(r["question"], r["answer"]) for r in gpt4],
        "train_filtered": [
            Example(g["question"], t["answer"]) for g, t in zip(gpt4, truth, strict=True)
        ],
    }
    test = json.loads((GSM8K_DIR / "test_filtered.json").read_text())[:n_test]
    return train, [(r["question"] + INSTRUCTION, r["numerical_final_answer"]) for r in test]


def settings(args: argparse.Namespace) -> TrainSettings:
    return TrainSettings(
        epochs=1, batch_size=args.batch, precision=args.precision, max_length=1024, seed=0
    )


def generated_tokens(tokenizer, outputs: list[str]) -> int:
    return sum(len(encode(tokenizer, o)) + 1 for o in outputs)  # + the stop token


# --- (a) Familiar -------------------------------------------------------------------------


def familiar(args, train, test) -> dict:
    started = time.perf_counter()
    target = load_target(PACKAGED, cache_dir=args.cache_dir, dtype=args.precision, device="cpu")
    model, tok = target.model, target.tokenizer
    prompts = [encode(tok, chat_prompt_text(tok, q)) for q, _ in test]
    out = {"train_tokens": 0, "train_s": 0.0, "eval_tokens": 0, "eval_s": 0.0, "acc": {}}
    for name in STRATEGIES:
        with tempfile.TemporaryDirectory() as tmp:
            result = train_adapter(
                model, tok, train[name], [], settings(args), Path(tmp), score=last_number_correct
            )
            out["train_tokens"] += result.train_tokens
            out["train_s"] += sum(s.tokens / s.tokens_per_s for s in result.steps)
            out["steps"], out["dtype"] = result.total_steps, result.dtype
            tuned = load_adapter(model, result.best.path)
            t0 = time.perf_counter()
            answers = generate_greedy(tuned, tok, prompts, max_new_tokens=args.max_new_tokens)
            out["eval_s"] += time.perf_counter() - t0
            tuned.unload()
        out["eval_tokens"] += generated_tokens(tok, answers)
        out["acc"][name] = sum(map(last_number_correct, answers, [g for _, g in test])) / len(test)
    out["wall_s"] = time.perf_counter() - started
    out["n_params"] = sum(p.numel() for p in model.parameters())
    return out


# --- (b) the research pipeline's shape ----------------------------------------------------


def baseline_one(args, train, test) -> dict:
    """One strategy in this process: load, train on padded random batches, answer one by one."""
    from peft import LoraConfig, get_peft_model
    from transformers import set_seed

    target = load_target(PACKAGED, cache_dir=args.cache_dir, dtype=args.precision, device="cpu")
    model, tok, s = target.model, target.tokenizer, settings(args)
    rows = [
        encode_example(tok, e.question, e.response, s.max_length) for e in train[args.baseline_one]
    ]
    set_seed(s.seed)
    lora = LoraConfig(
        r=s.lora_r,
        lora_alpha=s.lora_alpha,
        lora_dropout=s.lora_dropout,
        target_modules=list(s.target_modules),
        task_type="CAUSAL_LM",
    )
    peft_model = get_peft_model(model, lora)
    train_s = _baseline_train(peft_model, tok, rows, s)
    peft_model.eval()
    t0 = time.perf_counter()
    stops = stop_ids(model, tok)
    answers = [_baseline_answer(peft_model, tok, stops, q, args) for q, _ in test]
    eval_s = time.perf_counter() - t0
    acc = sum(map(last_number_correct, answers, [g for _, g in test])) / len(test)
    return {
        "train_tokens": sum(r.length for r in rows),
        "train_s": train_s,
        "eval_s": eval_s,
        "eval_tokens": generated_tokens(tok, answers),
        "acc": acc,
    }


def _baseline_train(peft_model, tok, rows, s) -> float:
    """The transformers Trainer on right-padded batches in random order; its seconds."""
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    steps = -(-len(rows) // s.batch_size)
    with tempfile.TemporaryDirectory() as tmp:
        targs = TrainingArguments(
            output_dir=tmp,
            per_device_train_batch_size=s.batch_size,
            learning_rate=s.learning_rate,
            max_steps=steps,
            warmup_steps=math.ceil(s.warmup_ratio * steps),
            lr_scheduler_type="linear",
            save_strategy="no",
            report_to=[],
            use_cpu=True,
            disable_tqdm=True,
            seed=s.seed,
            remove_unused_columns=False,
            logging_steps=1000,
        )
        data = [
            {"input_ids": r.input_ids, "labels": r.labels, "attention_mask": [1] * r.length}
            for r in rows
        ]
        collate = DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100)
        trainer = Trainer(model=peft_model, args=targs, train_dataset=data, data_collator=collate)
        t0 = time.perf_counter()
        trainer.train()
        return time.perf_counter() - t0


def _baseline_answer(peft_model, tok, stops: list[int], question: str, args) -> str:
    """One generate call per question, as the research code does."""
    ids = torch.tensor([encode(tok, chat_prompt_text(tok, question))])
    with torch.inference_mode():
        gen = peft_model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            do_sample=False,
            max_new_tokens=args.max_new_tokens,
            eos_token_id=stops,
            pad_token_id=stops[0],
        )
    return tok.decode(gen[0, ids.shape[1] :], skip_special_tokens=True).strip()


def research(args) -> dict:
    started = time.perf_counter()
    out = {"train_tokens": 0, "train_s": 0.0, "eval_tokens": 0, "eval_s": 0.0, "acc": {}}
    for name in STRATEGIES:
        cmd = [
            sys.executable,
            __file__,
            "--baseline-one",
            name,
            "--train",
            str(args.train),
            "--test",
            str(args.test),
            "--batch",
            str(args.batch),
            "--max-new-tokens",
            str(args.max_new_tokens),
            "--precision",
            args.precision,
            "--cache-dir",
            str(args.cache_dir),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode:
            sys.exit(f"baseline {name} failed:\n{done.stderr[-3000:]}")
        one = json.loads(done.stdout.strip().splitlines()[-1])
        for key in ("train_tokens", "train_s", "eval_tokens", "eval_s"):
            out[key] += one[key]
        out["acc"][name] = one["acc"]
    out["wall_s"] = time.perf_counter() - started
    return out


def main() -> None:
    args = parse_args()
    train, test = load_data(args.train, args.test)
    if args.baseline_one:
        print(json.dumps(baseline_one(args, train, test)))
        return
    with reusing_freed_memory():  # as a worker runs each job (workers.tasks.execute)
        a = familiar(args, train, test)
    dtype = getattr(torch, a["dtype"])
    rate_before = linear_rate(dtype, seconds=0.5)
    b = research(args)
    rate = max(rate_before, linear_rate(dtype, seconds=0.5))
    _report(args, a, b, rate)


def _report(args, a: dict, b: dict, rate: float) -> None:
    """The lines a reader compares, then one JSON object."""
    train_tps = a["train_tokens"] / a["train_s"]
    share = 4 * a["n_params"] * train_tps / rate
    print(
        f"validation of {len(STRATEGIES)} strategies x 1 seed: {args.train} training examples, "
        f"{a['steps']} steps of {args.batch}, {args.test} test questions, "
        f"{args.max_new_tokens} new tokens at most; {a['dtype']} on {torch.get_num_threads()} "
        f"threads"
    )
    for label, r in (
        ("(a) Familiar, one process:     ", a),
        ("(b) research, process/strategy:", b),
    ):
        print(
            f"{label} {r['wall_s']:7.1f} s  (training {r['train_s']:.1f} s, evaluation "
            f"{r['eval_s']:.1f} s)  accuracy {r['acc']}"
        )
    print(f"speedup (b)/(a): {b['wall_s'] / a['wall_s']:.2f}x")
    gflops = 4 * a["n_params"] * train_tps / 1e9
    print(
        f"training: {train_tps:.0f} tokens/s (research: {b['train_tokens'] / b['train_s']:.0f})"
        f"; {gflops:.1f} GFLOP/s at 4 x {a['n_params'] / 1e6:.1f}M FLOPs/token = {share:.1%} "
        f"of F.linear's {rate / 1e9:.0f} GFLOP/s in {a['dtype']}"
    )
    eval_tps = a["eval_tokens"] / a["eval_s"]
    print(
        f"evaluation: {eval_tps:.0f} generated tokens/s (research: "
        f"{b['eval_tokens'] / b['eval_s']:.0f})"
    )
    print(
        json.dumps(
            {
                "speedup": round(b["wall_s"] / a["wall_s"], 3),
                "familiar_s": round(a["wall_s"], 1),
                "research_s": round(b["wall_s"], 1),
                "train_tokens_per_s": round(train_tps, 1),
                "research_train_tokens_per_s": round(b["train_tokens"] / b["train_s"], 1),
                "eval_tokens_per_s": round(eval_tps, 1),
                "research_eval_tokens_per_s": round(b["eval_tokens"] / b["eval_s"], 1),
                "train_matmul_share": round(share, 4),
                "dtype": a["dtype"],
                "matmul_gflops": round(rate / 1e9, 1),
                "accuracy": a["acc"],
                "research_accuracy": b["acc"],
                "steps": a["steps"],
                "train": args.train,
                "test": args.test,
            }
        )
    )


if __name__ == "__main__":
    main()
