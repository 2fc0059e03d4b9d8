"""Caches and stored own answers never mix backends (issue 19's seam).

The score and text cache keys name the backend (``kind@version``); the own-answers job
generates with the backend its spec names, and its text cache rows and stored own answers
are keyed by that backend's tag, so a second backend's job reuses nothing of the first's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from sqlalchemy import func, select

from app.backends import IMPLICIT_TAG, registered_backend, settings_key_suffix
from app.jobs import lifecycle
from app.models import OwnAnswer, Project, TextCache
from app.scans.output import ScanOutput
from app.scans.store import own_answers_settings_key as scan_settings_key
from app.specs.jobs import OwnAnswersSpec
from tests.app.test_validations import _project
from tests.backends.reference_backend import LOADED
from tests.backends.test_contract import REFERENCE
from tests.jobs.contexts import claimed_context
from tests.scoring.test_scan import tiny_target
from workers.jobs.own_answers import generate_own_answers, own_answers_settings_key
from workers.scoring.cache import DEFAULT_TAG, score_key, text_key

SCORED = ("ppl", "model-key", "float32", "chat", 512, "prefix", "response")


def test_the_score_and_text_keys_name_the_backend() -> None:
    assert score_key(*SCORED) == score_key(*SCORED, "transformers@1")
    assert score_key(*SCORED, "reference@1") != score_key(*SCORED, "transformers@1")
    assert score_key(*SCORED, "transformers@2") != score_key(*SCORED, "transformers@1")
    gen = ("model-key", "float32", 320, "prompt")
    assert text_key(*gen) == text_key(*gen, DEFAULT_TAG)
    assert text_key(*gen, "reference@1") != text_key(*gen, DEFAULT_TAG)


def test_own_answer_settings_keys_name_any_backend_but_the_implicit_one() -> None:
    assert own_answers_settings_key(320, "float32", IMPLICIT_TAG) == (
        "zero-shot|greedy|max_new=320|float32"  # rows stored before backends keep matching
    )
    assert own_answers_settings_key(320, "float32", "reference@1").endswith("|reference@1")
    assert settings_key_suffix("transformers@2") == "|transformers@2"
    scan = {"settings": {"template": "chat", "max_new_tokens": 320}, "sample": [], "values": {}}
    ours = ScanOutput(**scan, model={"dtype": "float32", "backend": IMPLICIT_TAG})
    theirs = ScanOutput(**scan, model={"dtype": "float32", "backend": "reference@1"})
    assert scan_settings_key(ours) == "scan|chat|greedy|max_new=320|float32"
    assert scan_settings_key(theirs) == scan_settings_key(ours) + "|reference@1"


def test_the_own_answers_spec_names_a_registered_backend() -> None:
    assert OwnAnswersSpec().backend == "transformers"
    assert "backend" not in OwnAnswersSpec().model_dump(mode="json")  # stored as before
    with pytest.raises(ValueError, match="did you mean 'transformers'"):
        OwnAnswersSpec(backend="transformer")
    with registered_backend(REFERENCE):
        spec = OwnAnswersSpec(backend="reference")
        assert OwnAnswersSpec.model_validate(spec.model_dump(mode="json")) == spec


@pytest.fixture
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_own_answers_job_generates_with_the_backend_its_spec_names(  # type: ignore[no-untyped-def]
    client, session, monkeypatch, _one_thread
) -> None:
    target = tiny_target()
    LOADED["tiny"] = target  # what the reference backend serves
    monkeypatch.setattr("workers.modeling.load_target", lambda *_a, **_k: target)
    pid = _project(client, n=3, names=("alpha",))
    session.get(Project, pid).target_model = "tiny"
    session.commit()
    with registered_backend(REFERENCE):
        results = {}
        for backend in ("reference", "transformers"):
            spec = {"backend": backend, "max_new_tokens": 4, "strategy": f"own_{backend}"}
            job = lifecycle.create_job(
                session, kind="generate_own_answers", project_id=pid, spec=spec
            )
            session.commit()
            results[backend] = generate_own_answers(claimed_context(job.id))
    # the transformers job reused none of the reference job's cached texts
    assert results["reference"]["generated"] == results["transformers"]["generated"] == 3
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(TextCache)) == 6
    keys = set(session.scalars(select(OwnAnswer.settings_key).distinct()))
    assert keys == {
        "zero-shot|greedy|max_new=4|float32",
        "zero-shot|greedy|max_new=4|float32|reference@1",
    }
