"""monitoring alarm acknowledgement: who acknowledged an alarm, when, with what comment

Three nullable columns on ``monitoring_alarms``: ``acknowledged_by`` (username),
``acknowledged_at`` (UTC) and ``acknowledgement_comment``. An alarm without them is not yet
acknowledged.

Revision ID: live_1
Revises: quality_2
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "live_1"
down_revision = "quality_2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot alter tables in place
    with op.batch_alter_table("monitoring_alarms", schema=None) as batch:
        batch.add_column(sa.Column("acknowledged_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("acknowledged_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("acknowledgement_comment", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitoring_alarms", schema=None) as batch:
        batch.drop_column("acknowledgement_comment")
        batch.drop_column("acknowledged_at")
        batch.drop_column("acknowledged_by")
