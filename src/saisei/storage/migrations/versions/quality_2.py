"""password history: previous password hashes of each user

One table, ``password_history``: the user, the argon2 hash of a password the user had, and
when it was replaced. Read to refuse the re-use of the last N passwords (setting
``password_history``).

Revision ID: quality_2
Revises: design_space_1
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "quality_2"
down_revision = "design_space_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "password_history",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("replaced_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_password_history_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_history")),
    )


def downgrade() -> None:
    op.drop_table("password_history")
