"""`familiar lab`: teachers with a key from stdin, recipes from YAML or JSON (versions on
change), the estimate, and one-line errors with the CLI's exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli import EXIT_BAD_INPUT, EXIT_FAILED, cli
from app.models import Project, Question

KEY = "sk-cli-secret-ABCDEFGHIJKLMNOP1234"
YAML = """
recipes:
  - name: direct
    preset: direct
    teacher: gpt
    max_tokens: 64
  - name: mine
    teacher: gpt
    system_template: "Be brief."
    user_template: "Q: {{ question }}"
  - name: rule
    preset: rule_answer_first
"""


def _project(session: Session) -> int:
    project = Project(name="lab", target_model="packaged:SmolLM2-135M-Instruct")
    session.add(project)
    session.flush()
    for i in range(3):
        q = Question(
            project_id=project.id, text_key=f"k{i}", text=f"q{i}", gold=f"#### {i}", position=i
        )
        session.add(q)
    session.commit()
    return project.id


def test_lab_cli_teacher_recipes_estimate(session: Session, tmp_path: Path) -> None:
    pid = str(_project(session))
    runner = CliRunner()
    args = ["lab", "teacher", pid, "gpt", "--base-url", "http://127.0.0.1:9/v1", "--model", "g"]
    made = runner.invoke(cli, [*args, "--api-key-stdin"], input=KEY + "\n")
    assert made.exit_code == 0, made.output
    assert "key set" in made.output and KEY not in made.output
    path = tmp_path / "recipes.yaml"
    path.write_text(YAML)
    first = runner.invoke(cli, ["lab", "recipes", pid, str(path)])
    assert first.exit_code == 0, first.output
    assert "direct v1 (gpt)" in first.output and "rule v1 (rule)" in first.output
    path.write_text(YAML.replace("Be brief.", "Be very brief."))
    second = runner.invoke(cli, ["lab", "recipes", pid, str(path)])
    assert "mine v2" in second.output and "direct v1" in second.output
    est = runner.invoke(cli, ["lab", "estimate", pid, "--recipe", "mine", "--recipe", "rule"])
    assert est.exit_code == 0, est.output
    out = json.loads(est.output)
    assert out["questions"] == 3 and [r["requests"] for r in out["recipes"]] == [3, 3]


def test_lab_cli_errors_are_one_line(session: Session, tmp_path: Path) -> None:
    pid = str(_project(session))
    runner = CliRunner()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"name": "x", "user_template": "{{ nope }}"}]))
    r = runner.invoke(cli, ["lab", "recipes", pid, str(bad)])
    assert r.exit_code == EXIT_BAD_INPUT and "unknown variable nope" in r.output
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps([{"name": "x", "preset": "step_by_stp"}]))
    r = runner.invoke(cli, ["lab", "recipes", pid, str(typo)])
    assert r.exit_code == EXIT_BAD_INPUT and "did you mean 'step_by_step'" in r.output
    r = runner.invoke(cli, ["lab", "estimate", "999", "--recipe", "x"])
    assert r.exit_code == EXIT_FAILED and "Traceback" not in r.output


def test_lab_cli_prices_and_budget(session: Session) -> None:
    pid = str(_project(session))
    runner = CliRunner()
    set_price = ["lab", "price", pid, "org/m", "--prompt", "2.5", "--completion", "10"]
    r = runner.invoke(cli, set_price)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["completion_per_mtok"] == 10.0
    r = runner.invoke(cli, ["lab", "price", pid, "org/m", "--prompt", "-1", "--completion", "1"])
    assert r.exit_code != 0 and "Traceback" not in r.output
    r = runner.invoke(cli, ["lab", "budget", pid, "--limit", "20", "--currency", "EUR"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == {"limit": 20.0, "currency": "EUR", "spent": 0.0, "left": 20.0}
    r = runner.invoke(cli, ["lab", "budget", pid, "--no-limit"])
    assert json.loads(r.output)["limit"] is None and json.loads(r.output)["currency"] == "EUR"
    r = runner.invoke(cli, ["lab", "budget", pid, "--limit", "1", "--no-limit"])
    assert r.exit_code == EXIT_BAD_INPUT
    r = runner.invoke(cli, ["lab", "budget", "999"])
    assert r.exit_code == EXIT_FAILED and "Traceback" not in r.output
