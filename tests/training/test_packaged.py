"""The packaged SmolLM2-135M-Instruct: its end of turn, and a short real training run."""

from __future__ import annotations

import json

import pytest
import torch

from app.specs.training import TrainSettings
from tests.paths import GSM8K_DIR
from tests.scoring.tiny import PACKAGED, TEST_MODELS
from workers.training import Example, ValExample, encode_example, load_adapter, train_adapter

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def target():
    from workers.modeling import load_target

    return load_target(PACKAGED, cache_dir=TEST_MODELS, dtype="auto", device="cpu")


def test_smollm2_learns_to_end_its_turn_with_im_end(target):
    tok = target.tokenizer
    ex = encode_example(tok, "What is 2+3?", "2+3 = 5\nFinal Answer: 5", 256)
    assert tok.convert_ids_to_tokens(ex.labels[-1]) == "<|im_end|>"
    assert ex.input_ids[-1] == ex.labels[-1]
    first = ex.labels.index(next(t for t in ex.labels if t != -100))
    assert tok.decode(ex.input_ids[:first]).endswith("<|im_start|>assistant\n")


def test_a_short_gsm8k_run_lowers_the_loss_and_leaves_the_base_alone(target, tmp_path):
    rows = json.loads((GSM8K_DIR / "gpt4.json").read_text())[:8]
    train = [Example(r["question"], r["answer"]) for r in rows]
    val = [ValExample("0", rows[0]["question"], rows[0]["gold_label"], rows[0]["answer"])]
    before = {k: v.clone() for k, v in target.model.state_dict().items()}
    s = TrainSettings(
        epochs=3, batch_size=4, learning_rate=1e-3, val_max_new_tokens=8, eval_every=6
    )
    result = train_adapter(
        target.model, target.tokenizer, train, val, s, tmp_path, score=lambda out, gold: gold in out
    )
    assert result.dtype == target.dtype and [c.step for c in result.checkpoints] == [6]
    assert result.steps[-1].loss < result.steps[0].loss
    assert all(torch.equal(before[k], v) for k, v in target.model.state_dict().items())
    ids = torch.tensor(
        [encode_example(target.tokenizer, train[0].question, train[0].response, 1024).input_ids]
    )
    with torch.no_grad():
        base = target.model(input_ids=ids).logits
        tuned = load_adapter(target.model, result.best.path)
        tuned_logits = tuned(input_ids=ids).logits
        tuned.unload()
    assert not torch.allclose(base, tuned_logits)
