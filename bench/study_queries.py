"""Count the SQL statements of the study page and its JSON on the study bench's data.

Builds ``--projects`` projects as bench/study_bench.py does (8 strategies, a finished scan's
five metrics, three seeds of accuracies each) and a study over them, then requests the
study's JSON and HTML pages once to warm up and once counted (SQLAlchemy's
``before_cursor_execute`` on ``app.db.get_engine()``). ``--dump FILE`` writes the study JSON
with its timing (``compute_s``) and the study's creation and update times blanked, so two
trees' outputs can be compared byte for byte.

Prints one JSON line: projects, json_queries, html_queries (and, with ``--by-statement``,
the statements run more than once, with their counts, on stderr).
Run: PYTHONPATH=. .venv/bin/python bench/study_queries.py --projects 60
(PYTHONPATH picks the tree whose code is counted; this script and study_bench.py come from
this folder.)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # study_bench beside this file

from study_bench import build_study, prepare  # noqa: E402


@contextmanager
def counted() -> Iterator[list[str]]:
    """Every statement the app's engine sends while the block runs."""
    from sqlalchemy import event

    from app.db import get_engine

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def normalised(body: dict[str, Any]) -> str:
    """The study JSON without what differs between two identical runs (timing, clock)."""
    body = dict(body, compute_s=0.0)
    body["study"] = dict(body["study"], created_at="", updated_at="")
    return json.dumps(body, sort_keys=False, indent=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--projects", type=int, default=60, help="projects in the study")
    parser.add_argument("--dump", type=Path, help="write the normalised study JSON here")
    parser.add_argument(
        "--by-statement", action="store_true", help="print repeated statements to stderr"
    )
    args = parser.parse_args()
    from fastapi.testclient import TestClient

    from app.db import session_scope
    from app.main import create_app

    prepare()
    with session_scope() as session:
        study_id = build_study(session, projects=args.projects)
    client = TestClient(create_app(), base_url="http://127.0.0.1")
    out: dict[str, Any] = {"projects": args.projects}
    for name, url in (("json", f"/api/v1/studies/{study_id}"), ("html", f"/studies/{study_id}")):
        client.get(url)  # warm caches, as the timing bench does
        with counted() as statements:
            response = client.get(url)
        assert response.status_code == 200, response.text[:300]
        out[f"{name}_queries"] = len(statements)
        if args.by_statement:
            for text, n in Counter(statements).most_common():
                if n > 1:
                    print(f"{name} x{n}: {' '.join(text.split())[:160]}", file=sys.stderr)
        if name == "json" and args.dump:
            args.dump.write_text(normalised(response.json()))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
