"""studies, study_projects; share links may open a study

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_studies_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studies")),
    )
    op.create_table(
        "study_projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["studies.id"],
            name=op.f("fk_study_projects_study_id_studies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_study_projects_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_projects")),
        sa.UniqueConstraint(
            "study_id", "project_id", name=op.f("uq_study_projects_study_id_project_id")
        ),
    )
    with op.batch_alter_table("study_projects") as batch:
        batch.create_index(batch.f("ix_study_projects_study_id"), ["study_id"], unique=False)
        batch.create_index(batch.f("ix_study_projects_project_id"), ["project_id"], unique=False)
    with op.batch_alter_table("share_links") as batch:
        batch.add_column(sa.Column("study_id", sa.Integer(), nullable=True))
        batch.alter_column("project_id", existing_type=sa.Integer(), nullable=True)
        batch.create_foreign_key(
            batch.f("fk_share_links_study_id_studies"),
            "studies",
            ["study_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(batch.f("ix_share_links_study_id"), ["study_id"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM share_links WHERE project_id IS NULL")
    with op.batch_alter_table("share_links") as batch:
        batch.drop_index(batch.f("ix_share_links_study_id"))
        batch.drop_constraint(batch.f("fk_share_links_study_id_studies"), type_="foreignkey")
        batch.alter_column("project_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("study_id")
    with op.batch_alter_table("study_projects") as batch:
        batch.drop_index(batch.f("ix_study_projects_project_id"))
        batch.drop_index(batch.f("ix_study_projects_study_id"))
    op.drop_table("study_projects")
    op.drop_table("studies")
