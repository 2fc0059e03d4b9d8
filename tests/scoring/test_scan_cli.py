"""scan_files: files in, results.json out (real GSM8K files, packaged model)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from app.specs.scan import ScanInputError, ScanSpec
from tests.paths import GSM8K_DIR
from tests.scoring.tiny import TEST_MODELS
from workers.scan_cli import read_corpus, scan_files

FILES = [GSM8K_DIR / "gpt4.json", GSM8K_DIR / "simple_response.json"]


def test_read_corpus_matches_questions_across_files() -> None:
    corpus = read_corpus(FILES)
    assert set(corpus.responses) == {"gpt4", "simple_response"}
    assert len(corpus.texts) == 1000 and all(len(r) == 1000 for r in corpus.responses.values())
    key, text, gold = corpus.questions[0]
    assert text.startswith("Natalia sold clips") and gold in ("72.0", "72")
    assert [f["records"] for f in corpus.files] == [1000, 1000]


def test_read_corpus_pairs_ground_truth_without_the_appended_instruction() -> None:
    # train_filtered.json's questions lack the "Please provide the final answer..." line the
    # strategies' questions carry; the CLI must match them as uploads do.
    corpus = read_corpus([FILES[0], GSM8K_DIR / "train_filtered.json"])
    assert len(corpus.texts) == 1000
    assert all(len(r) == 1000 for r in corpus.responses.values())


def test_files_without_shared_questions_fail_before_loading(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text(
        json.dumps([{"question": "Q?", "input": "", "answer": "A", "gold_label": "1"}])
    )
    with pytest.raises(ScanInputError, match="no question is answered by all 2"):
        scan_files(
            [FILES[0], other],
            ScanSpec(model="packaged:Nope", metrics=["ppl"], sample=1, examples=1, pool=2),
            out=tmp_path / "r.json",
            cache_dir=tmp_path,
        )


@pytest.mark.slow
def test_scan_files_writes_results(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    out = tmp_path / "results.json"
    spec = ScanSpec(
        model="packaged:SmolLM2-135M-Instruct",
        metrics=["ppl", "sppl"],
        sample=2,
        examples=1,
        pool=3,
        dtype="float32",
        seed=1,
        max_new_tokens=24,
        allow_unfiltered_fallback=True,
    )
    returned = scan_files(FILES, spec, out=out, cache_dir=cache_dir, models_dir=TEST_MODELS)
    results = json.loads(out.read_text())
    assert results == json.loads(json.dumps(returned))
    assert results["model"]["model_key"].startswith("packaged:SmolLM2-135M-Instruct|")
    assert results["settings"]["sample"] == 2 and len(results["sample"]) == 2
    assert [f["sha256"] for f in results["files"]] and len(results["own_answers"]) == 3
    for strategy in ("gpt4", "simple_response"):
        for metric in ("ppl", "sppl"):
            rows = results["values"][strategy][metric]
            assert [r["question_key"] for r in rows] == results["sample"]
            assert all(r["question_id"] and r["n_tokens"] > 0 for r in rows)
            agg = results["aggregates"][strategy][metric]
            assert math.isfinite(agg["mean"]) and agg["ci_low"] <= agg["mean"] <= agg["ci_high"]
            assert agg["rank"] in (1, 2)
    assert {"loading", "generating", "scoring ppl", "scoring sppl", "total"} <= set(
        results["timings"]
    )
    assert (cache_dir / "scores.sqlite").exists()
