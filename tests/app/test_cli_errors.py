"""CLI commands on bad input: one line naming file, line and field, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from app.cli import EXIT_BAD_INPUT, EXIT_FAILED, cli


def _bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "refused.jsonl"
    rows = (
        '{"id": "1", "question": "q", "answer": "a"}\n{"id": "1", "question": "r", "answer": "b"}\n'
    )
    path.write_text(rows)
    return path


def test_scan_on_a_refused_file_is_one_line_exit_2(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["scan", str(_bad_file(tmp_path)), "--out", str(tmp_path / "o")])
    assert r.exit_code == EXIT_BAD_INPUT
    assert "Traceback" not in r.output and not isinstance(r.exception, ValueError)
    assert "error: refused.jsonl, line 2, field 'id': duplicate id '1'" in r.output


def test_scan_on_null_response_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "n.jsonl"
    path.write_text('{"question": "q", "answer": null}\n')
    r = CliRunner().invoke(cli, ["scan", str(path), "--out", str(tmp_path / "o")])
    assert r.exit_code == EXIT_BAD_INPUT
    assert "n.jsonl, line 1, field 'answer': the response is null" in r.output


def test_import_bad_file_exit_2_unknown_project_exit_1(
    settings_env: str, client, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    client.post("/api/v1/projects", json={"name": "p"})
    runner = CliRunner()
    r = runner.invoke(cli, ["import", "p", str(_bad_file(tmp_path))])
    assert r.exit_code == EXIT_BAD_INPUT and "line 2, field 'id'" in r.output
    good = tmp_path / "good.jsonl"
    good.write_text('{"question": "q", "answer": "a"}\n')
    r = runner.invoke(cli, ["import", "no-such-project", str(good)])
    assert r.exit_code == EXIT_FAILED and "Traceback" not in r.output
