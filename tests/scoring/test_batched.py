"""The fast scorer against the reference on a tiny random Llama: padding, caching, flags."""

from __future__ import annotations

import math
import random

import pytest
import torch

from tests.scoring.tiny import tiny_llama
from workers.scoring.batched import SHAPE_MULTIPLE, score_items
from workers.scoring.items import ScoreItem
from workers.scoring.reference import reference_score

VOCAB = 101


def rand_ids(rng: random.Random, n: int) -> tuple[int, ...]:
    return tuple(rng.randrange(5, VOCAB) for _ in range(n))


def assert_close(fast, ref, rel: float = 1e-5) -> None:
    assert fast.n_tokens == ref.n_tokens
    assert fast.truncated == ref.truncated
    assert fast.empty == ref.empty
    if ref.n_tokens:
        assert fast.mean_nll == pytest.approx(ref.mean_nll, rel=rel)


def shared_prefix_items(seed: int = 0) -> list[ScoreItem]:
    """3 prefixes of different lengths x 4 responses of different lengths, plus singles."""
    rng = random.Random(seed)
    prefixes = [rand_ids(rng, n) for n in (3, 17, 40)]
    items = [ScoreItem(p, rand_ids(rng, rng.randint(1, 30))) for p in prefixes for _ in range(4)]
    items.append(ScoreItem(rand_ids(rng, 9), rand_ids(rng, 12)))
    items.append(ScoreItem((), rand_ids(rng, 15)))  # response alone, no BOS
    items.append(ScoreItem((1,), rand_ids(rng, 7)))  # response alone after BOS
    return items


@pytest.mark.parametrize("budget", [64, 200, 100_000])
def test_matches_reference_with_shared_prefixes(tiny_model, budget: int) -> None:
    items = shared_prefix_items()
    fast = score_items(tiny_model, items, token_budget=budget)
    for item, got in zip(items, fast, strict=True):
        assert_close(got, reference_score(tiny_model, item))


def test_each_distinct_prefix_runs_once(tiny_model) -> None:
    items = shared_prefix_items()
    seen: list[int] = []  # real (unpadded) input tokens of every base-model call

    def count(_module, _args, kwargs, _out) -> None:
        width = kwargs["input_ids"].shape[1]
        seen.append(int(kwargs["attention_mask"][:, -width:].sum()))

    hook = tiny_model.base_model.register_forward_hook(count, with_kwargs=True)
    tokens: list[int] = []
    try:
        score_items(tiny_model, items, on_progress=lambda d, t, n: tokens.append(n))
    finally:
        hook.remove()
    distinct = {i.prefix_ids for i in items}
    expected = sum(len(p) for p in distinct) + sum(len(i.response_ids) for i in items)
    assert sum(seen) == expected
    assert tokens[-1] == expected


def test_lm_head_only_on_scored_positions(tiny_model) -> None:
    items = shared_prefix_items()
    rows: list[int] = []
    head = tiny_model.get_output_embeddings()
    hook = head.register_forward_hook(lambda _m, args, _o: rows.append(args[0].shape[0]))
    try:
        results = score_items(tiny_model, items)
    finally:
        hook.remove()
    scored = sum(r.n_tokens for r in results)
    # only scored positions, each LM-head slice rounded up to a reused kernel shape on CPU
    assert all(n % SHAPE_MULTIPLE == 0 for n in rows)
    assert scored <= sum(rows) < scored + SHAPE_MULTIPLE * len(rows)


def test_padding_does_not_change_values(tiny_model) -> None:
    rng = random.Random(3)
    prefix = rand_ids(rng, 10)
    target = ScoreItem(prefix, rand_ids(rng, 5))
    alone = score_items(tiny_model, [target])[0]
    crowd = [target] + [ScoreItem(prefix, rand_ids(rng, n)) for n in (1, 25, 40)]
    crowd += [ScoreItem(rand_ids(rng, 30), rand_ids(rng, 8))]  # longer prefix, same chunk
    together = score_items(tiny_model, crowd, token_budget=10_000)[0]
    assert together.sum_nll == pytest.approx(alone.sum_nll, rel=1e-5)


def test_boundary_token_is_predicted_from_prefix_end(tiny_model) -> None:
    prefix, response = (5, 6, 7, 8), (9, 10, 11)
    got = score_items(tiny_model, [ScoreItem(prefix, response)], token_logprobs=True)[0]
    logits = tiny_model(input_ids=torch.tensor([prefix + response])).logits[0].float()
    first = torch.log_softmax(logits[len(prefix) - 1], -1)[response[0]]
    assert got.token_logprobs[0] == pytest.approx(float(first), rel=1e-5)
    assert sum(got.token_logprobs) == pytest.approx(-got.sum_nll, rel=1e-5)
    assert got.n_tokens == len(response)


def test_empty_prefix_scores_from_second_token(tiny_model) -> None:
    response = (20, 21, 22, 23)
    got = score_items(tiny_model, [ScoreItem((), response)])[0]
    assert got.n_tokens == len(response) - 1
    one = score_items(tiny_model, [ScoreItem((), (20,))])[0]
    assert one.n_tokens == 0 and one.empty and math.isnan(one.ppl)


def test_empty_response_is_nan_and_flagged(tiny_model) -> None:
    got = score_items(tiny_model, [ScoreItem((5, 6), ()), ScoreItem((5, 6), (7, 8))])
    assert got[0].n_tokens == 0 and got[0].empty and not got[0].truncated
    assert math.isnan(got[0].mean_nll) and math.isnan(got[0].ppl)
    assert got[1].n_tokens == 2 and not got[1].empty


def test_truncation_cuts_response_end_and_flags(tiny_model) -> None:
    rng = random.Random(5)
    item = ScoreItem(rand_ids(rng, 20), rand_ids(rng, 30))
    got = score_items(tiny_model, [item], max_length=32)[0]
    assert got.truncated and got.n_tokens == 12
    ref = reference_score(tiny_model, item, max_length=32)
    assert_close(got, ref)
    cut = reference_score(tiny_model, ScoreItem(item.prefix_ids, item.response_ids[:12]))
    assert got.sum_nll == pytest.approx(cut.sum_nll, rel=1e-5)


def test_model_position_limit_caps_length() -> None:
    small = tiny_llama(max_positions=24)
    rng = random.Random(6)
    got = score_items(small, [ScoreItem(rand_ids(rng, 20), rand_ids(rng, 10))])[0]
    assert got.truncated and got.n_tokens == 4


def test_prefix_filling_the_limit_leaves_nothing(tiny_model) -> None:
    got = score_items(tiny_model, [ScoreItem(tuple(range(5, 45)), (7, 8))], max_length=40)[0]
    assert got.truncated and got.n_tokens == 0 and not got.empty and math.isnan(got.ppl)


def test_lm_head_slices_do_not_change_values(tiny_model) -> None:
    items = shared_prefix_items(seed=1)
    whole = score_items(tiny_model, items)
    sliced = score_items(tiny_model, items, logit_budget=VOCAB * 3)
    for a, b in zip(whole, sliced, strict=True):
        assert b.sum_nll == pytest.approx(a.sum_nll, rel=1e-6)


def test_progress_and_batches_cover_every_item(tiny_model) -> None:
    items = shared_prefix_items() + [ScoreItem((5,), ())]
    seen: dict[int, float] = {}
    progress: list[tuple[int, int]] = []
    score_items(
        tiny_model,
        items,
        token_budget=64,
        on_batch=lambda b: seen.update(b),
        on_progress=lambda d, t, _n: progress.append((d, t)),
    )
    assert sorted(seen) == list(range(len(items)))
    assert progress[-1] == (len(items), len(items))


def test_bfloat16_within_two_percent() -> None:
    fp32, bf16 = tiny_llama(init=0.15), tiny_llama(init=0.15).to(torch.bfloat16)
    items = shared_prefix_items(seed=2)
    for item, got in zip(items, score_items(bf16, items), strict=True):
        ref = reference_score(fp32, item)
        assert got.ppl == pytest.approx(ref.ppl, rel=0.02)


def test_reference_refuses_non_float32() -> None:
    with pytest.raises(ValueError, match="float32"):
        reference_score(tiny_llama().to(torch.bfloat16), ScoreItem((5,), (6,)))
