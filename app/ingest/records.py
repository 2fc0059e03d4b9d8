"""The shapes the readers produce and the error they raise."""

from __future__ import annotations

from dataclasses import dataclass, field


class UploadError(ValueError):
    """Bad input, naming the file and where possible the line/row and field."""

    def __init__(
        self, filename: str, message: str, *, line: int | None = None, field: str | None = None
    ) -> None:
        self.filename = filename
        self.line = line
        self.field = field
        self.message = message
        where = filename
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")


NUL_REFUSED = (
    "contains a NUL character (U+0000), which cannot be stored; remove it "
    "(often a sign the file is binary or was saved with the wrong encoding)"
)


def refuse_nul(filename: str, value: str, *, line: int | None, field: str | None) -> str:
    """The text as it is, or an UploadError naming where a NUL is (Postgres cannot store
    one; refusing it on every database keeps the answer the same on SQLite)."""
    if "\x00" in value:
        raise UploadError(filename, NUL_REFUSED, line=line, field=field)
    return value


@dataclass(frozen=True)
class Record:
    """One question with one strategy's response."""

    question: str
    response: str
    line: int  # 1-based line (JSONL/JSON array element start line) or CSV/Parquet row number
    source_id: str | None = None  # id given by the file, if any
    gold: str | None = None  # gold/reference answer, if any
    strategy: str | None = None  # from a strategy column, if any
    correct: bool | None = None  # the file's own verdict on the response, if it has one
    category: str | None = None  # from a category/subject/task field, if any
    tests: tuple[str, ...] | None = None  # a code task's tests, from the mapping's tests field
    tests_setup: str | None = None  # code to run before those tests (MBPP test_setup_code)


@dataclass(frozen=True)
class FieldMapping:
    """Which source field feeds which record field; None means 'not present'."""

    layout: str  # "qa" | "alpaca" | "messages" | "sharegpt" | "prompt_response" | "mbpp" | "custom"
    question: str | None = None
    response: str | None = None
    input: str | None = None  # appended to the question (Alpaca `input`, research `input`)
    id: str | None = None
    gold: str | None = None
    strategy: str | None = None
    correct: str | None = None  # the file's own true/false verdict on the response
    category: str | None = None  # the question's category (category, subject or task)
    tests: str | None = None  # a code task's tests (test_list, ...: app.ingest.code_tests)
    tests_setup: str | None = None  # code run before those tests (test_setup_code, ...)


@dataclass
class ParsedFile:
    filename: str
    format: str  # "json" | "jsonl" | "csv" | "parquet"
    mapping: FieldMapping
    records: list[Record] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def strategies(self) -> dict[str | None, list[Record]]:
        out: dict[str | None, list[Record]] = {}
        for r in self.records:
            out.setdefault(r.strategy, []).append(r)
        return out
