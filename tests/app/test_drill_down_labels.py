"""Drill-down labels: what the SPPL examples are, the own answer once, token counts."""

from __future__ import annotations

from sqlalchemy import update

from app.models import OwnAnswer, Response, Scan, Strategy
from tests.app.test_results import IFD, PPL, SPPL, make_scan, question_ids, rows, upload

VALUES = {"sppl": SPPL, "ppl": PPL, "ifd": IFD}


def drill_down(client, session, *, filtered: bool):  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B"), "gamma": rows("C")})
    sid = make_scan(session, project_id=pid, values=VALUES, exemplars={2: ["1. so it is 4."]})
    scan = session.get(Scan, sid)
    scan.summary = scan.summary | {"settings": {"exemplars_filtered": filtered}}
    session.commit()
    return pid, sid, question_ids(session, pid)


def test_unfiltered_examples_are_labelled_as_such(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid, qids = drill_down(client, session, filtered=False)
    page = client.get(f"/api/v1/projects/{pid}/scans/{sid}/questions/{qids[2]}").json()
    assert page["exemplars_filtered"] is False
    html = client.get(f"/projects/{pid}/scans/{sid}/questions/{qids[2]}").text
    assert "unfiltered own answers to other questions, right or wrong" in html
    assert "own correct answers" not in html
    assert "Example 1 of 1" in html and '<ol class="exemplars"' not in html


def test_filtered_examples_say_correct_and_gold(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid, qids = drill_down(client, session, filtered=True)
    html = client.get(f"/projects/{pid}/scans/{sid}/questions/{qids[2]}").text
    assert "own correct answers to other questions, each followed by its gold answer" in html


def test_own_answer_strategy_is_not_shown_twice(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid, qids = drill_down(client, session, filtered=True)
    scan = session.get(Scan, sid)
    beta = session.query(Strategy).filter_by(project_id=pid, name="beta").one()
    beta.origin = "target"
    session.execute(
        update(Response)
        .where(Response.strategy_id == beta.id, Response.question_id == qids[2])
        .values(text="My own answer is 4", n_tokens=1)
    )
    session.add(
        OwnAnswer(
            question_id=qids[2],
            model_key=scan.model_key,
            settings_key="s",
            text="My own answer is 4",
            correct=True,
        )
    )
    session.commit()
    html = client.get(f"/projects/{pid}/scans/{sid}/questions/{qids[2]}").text
    assert html.count("My own answer is 4") == 1
    assert "Target model's own answer</strong>" not in html
    assert "1 token<" in html and "1 tokens" not in html


def test_an_example_shows_its_question_above_the_answer_as_generated(client, session) -> None:  # type: ignore[no-untyped-def]
    """The "stray 1": the packaged SmolLM2-135M answers some demo problems with "1", a blank
    line and "The answer is 1." (its greedy output, verbatim). Shown alone that reads as a
    rendering slip; under the question it answers it reads as what it is."""
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B"), "gamma": rows("C")})
    own = "1\n\nThe answer is 1."
    sid = make_scan(
        session, project_id=pid, values=VALUES, exemplars={2: [own]}, exemplar_sources={2: [5]}
    )
    qids = question_ids(session, pid)
    html = client.get(f"/projects/{pid}/scans/{sid}/questions/{qids[2]}").text
    example = html[html.index('class="exemplar"') :]
    example = example[: example.index("</article>")]
    assert example.index("What is 5 plus 5?") < example.index("The answer is 1.")
    assert "<p>1</p>" in example.split('class="exemplar-answer"')[1]  # inside the answer
