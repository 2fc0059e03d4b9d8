"""questions.tests, tests_field, tests_setup: a code task's tests from their own field

Code tasks such as MBPP keep their tests in a field of their own (``test_list``, often a
Python list literal) beside reference code in the gold; judged against the gold, every
answer was wrong. The upload now stores the tests (a JSON list of test texts), the field
they came from and the setup code to run before them; existing questions have none.
Columns are added and dropped in place (no batch rebuild: on SQLite a rebuild of
``questions`` would cascade-delete its responses).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


COLUMNS = [
    sa.Column("tests", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("tests_field", sa.String(80), nullable=True),
    sa.Column("tests_setup", sa.Text(), nullable=True),
]


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("questions", column)


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_column("questions", column.name)
