"""train_adapter on a tiny random Llama: what changes, the loss, budget, cancel, errors."""

from __future__ import annotations

import errno
import json

import pytest
import torch

from tests.training.conftest import contains, examples, settings, val_examples
from workers.training import (
    CheckpointWriteError,
    TrainingCancelled,
    TrainingError,
    encode_example,
    load_adapter,
    train_adapter,
)
from workers.training import trainer as trainer_mod
from workers.training.loss import supports_response_head


def _state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_base_weights_unchanged_and_adapter_weights_changed(model, tok, tmp_path):
    before = _state(model)
    result = train_adapter(
        model, tok, examples(), val_examples(), settings(), tmp_path, score=contains
    )
    after = _state(model)
    assert before.keys() == after.keys()  # unwrapped: no LoRA module left in the model
    assert all(torch.equal(before[k], after[k]) for k in before)
    tuned = load_adapter(model, result.best.path)
    lora = {n: p for n, p in tuned.named_parameters() if "lora_B" in n}
    assert len(lora) == 2 * 2  # q_proj and v_proj in both layers
    assert all(p.abs().sum() > 0 for p in lora.values())  # lora_B starts at zero
    ids = torch.tensor([encode_example(tok, "what is 3 plus 3?", "6", 100).input_ids])
    with torch.no_grad():
        tuned_logits = tuned(input_ids=ids).logits
        tuned.unload()
        base_logits = model(input_ids=ids).logits
    assert not torch.allclose(tuned_logits, base_logits)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("response_head", [True, False])
def test_first_step_loss_equals_a_plain_forward_with_the_labels(
    model, tok, tmp_path, monkeypatch, response_head
):
    assert supports_response_head(model)  # the tiny Llama takes the response-only LM head
    monkeypatch.setattr(trainer_mod, "RESPONSE_HEAD", response_head)
    train = examples(8)
    steps = []
    # one optimizer step holds all 8 examples, as 2 accumulated micro-batches of 4
    train_adapter(
        model,
        tok,
        train,
        [],
        settings(batch_size=4, grad_accum=2, epochs=1),
        tmp_path,
        score=contains,
        on_step=steps.append,
    )
    total, count = 0.0, 0
    with torch.no_grad():
        for ex in train:
            enc = encode_example(tok, ex.question, ex.response, 1024)
            logits = model(input_ids=torch.tensor([enc.input_ids])).logits[0, :-1].double()
            labels = torch.tensor(enc.labels[1:])
            keep = labels != -100
            logp = torch.log_softmax(logits[keep], -1)
            total -= float(logp.gather(1, labels[keep][:, None]).sum())
            count += int(keep.sum())
    assert steps[0].step == 1 and steps[0].total_steps == 1
    assert steps[0].loss == pytest.approx(total / count, rel=1e-5)
    assert steps[0].tokens == sum(
        len(encode_example(tok, e.question, e.response, 1024).input_ids) for e in train
    )


def test_curves_best_checkpoint_and_budget_then_continue(model, tok, tmp_path):
    s = settings(select_by="loss")  # 12 examples / 4 = 3 steps per epoch, 6 in all
    first = train_adapter(
        model, tok, examples(), val_examples(), s, tmp_path, score=contains, until_step=4
    )
    assert first.stopped_early and [c.step for c in first.checkpoints] == [2, 4]
    assert [st.step for st in first.steps] == [1, 2, 3, 4]
    assert first.total_steps == 6
    assert all(c.val_loss is not None and c.val_accuracy is not None for c in first.checkpoints)
    assert all(len(c.predictions) == 3 for c in first.checkpoints)
    rest = train_adapter(model, tok, examples(), val_examples(), s, tmp_path, score=contains)
    assert rest.resumed_from == 4 and [st.step for st in rest.steps] == [5, 6]
    assert not rest.stopped_early and [c.step for c in rest.checkpoints] == [2, 4, 6]
    assert rest.best.val_loss == min(c.val_loss for c in rest.checkpoints)
    again = train_adapter(model, tok, examples(), val_examples(), s, tmp_path, score=contains)
    assert again.steps == [] and again.resumed_from == 6  # nothing left to train


def test_best_by_accuracy_uses_the_score_function(model, tok, tmp_path):
    calls = []

    def score(output, gold):
        calls.append(gold)
        return len(calls) > 3  # every answer after the first checkpoint's 3 is "correct"

    result = train_adapter(
        model, tok, examples(), val_examples(), settings(), tmp_path, score=score
    )
    accs = [c.val_accuracy for c in result.checkpoints]
    assert accs == [0.0, 1.0, 1.0] and result.best.step == 4  # ties: the earliest


def test_cancel_stops_within_a_step_and_keeps_the_last_checkpoint(model, tok, tmp_path):
    before = _state(model)
    seen = []
    with pytest.raises(TrainingCancelled) as err:
        train_adapter(
            model,
            tok,
            examples(),
            val_examples(),
            settings(),
            tmp_path,
            score=contains,
            on_step=seen.append,
            should_stop=lambda: len(seen) >= 3,
        )
    assert err.value.step == 3 and err.value.last.step == 2
    assert [s.step for s in seen] == [1, 2, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-2", "run.json"]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    resumed = train_adapter(
        model, tok, examples(), val_examples(), settings(), tmp_path, score=contains
    )
    assert resumed.resumed_from == 2 and resumed.steps[0].step == 3


def test_an_exception_from_on_step_propagates_and_unwraps(model, tok, tmp_path):
    class Cancelled(Exception):
        pass

    def on_step(log):
        if log.step == 2:
            raise Cancelled

    with pytest.raises(Cancelled):
        train_adapter(
            model, tok, examples(), [], settings(), tmp_path, score=contains, on_step=on_step
        )
    assert not any("lora" in name for name, _ in model.named_modules())


def test_full_disk_while_checkpointing_leaves_nothing_half_written(
    model, tok, tmp_path, monkeypatch
):
    real_save = torch.save

    def save(obj, f, *a, **k):
        if "checkpoint-4" in str(f):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, f, *a, **k)

    monkeypatch.setattr(torch, "save", save)
    with pytest.raises(CheckpointWriteError, match="step 4.*No space left.*step 2"):
        train_adapter(model, tok, examples(), [], settings(), tmp_path, score=contains)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-2", "run.json"]


def test_another_runs_folder_is_refused(model, tok, tmp_path):
    train_adapter(model, tok, examples(), [], settings(epochs=1), tmp_path, score=contains)
    with pytest.raises(TrainingError, match="another run"):
        train_adapter(
            model, tok, examples(), [], settings(epochs=1, seed=1), tmp_path, score=contains
        )


def test_out_of_memory_halves_the_micro_batch_and_keeps_the_effective_batch(
    model, tok, tmp_path, monkeypatch
):
    real = trainer_mod._FamiliarTrainer.compute_loss
    rows = []

    def compute_loss(self, model, inputs, *a, **k):
        rows.append(inputs["input_ids"].shape[0])
        if inputs["input_ids"].shape[0] > 2:
            raise torch.OutOfMemoryError("out of memory (injected)")
        return real(self, model, inputs, *a, **k)

    monkeypatch.setattr(trainer_mod._FamiliarTrainer, "compute_loss", compute_loss)
    result = train_adapter(model, tok, examples(), [], settings(), tmp_path, score=contains)
    assert rows[0] == 4 and set(rows[1:]) == {2}
    assert result.effective_batch == 4 and result.checkpoints[-1].step == 6
    assert any("micro-batch 2 x 2" in n for n in result.notes)
    with pytest.raises(TrainingError, match="micro-batch 3"):
        train_adapter(
            model, tok, examples(), [], settings(batch_size=3), tmp_path / "b", score=contains
        )


def test_checkpoint_marker_records_the_validation(model, tok, tmp_path):
    result = train_adapter(
        model, tok, examples(), val_examples(), settings(epochs=1), tmp_path, score=contains
    )
    marker = json.loads((result.best.path / "familiar-checkpoint.json").read_text())
    assert marker["question_ids"] == ["0", "1", "2"] and len(marker["predictions"]) == 3
    assert (result.best.path / "adapter_model.safetensors").is_file()
    assert (result.best.path / "optimizer.pt").is_file()
