"""time-series compaction: a compacted segment replaces the many segments it merges

One table, ``timeseries_segment_replacements``: the compacted segment and each segment it
replaces (a segment is replaced at most once). Replaced segments keep their files and
manifest rows; reads skip them.

Revision ID: timeseries_1
Revises: live_1
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "timeseries_1"
down_revision = "live_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "timeseries_segment_replacements",
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("replaced_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["timeseries_segments.id"],
            name=op.f("fk_timeseries_segment_replacements_segment_id_timeseries_segments"),
        ),
        sa.ForeignKeyConstraint(
            ["replaced_id"],
            ["timeseries_segments.id"],
            name=op.f("fk_timeseries_segment_replacements_replaced_id_timeseries_segments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeseries_segment_replacements")),
        sa.UniqueConstraint(
            "replaced_id", name=op.f("uq_timeseries_segment_replacements_replaced_id")
        ),
    )
    op.create_index(
        op.f("ix_timeseries_segment_replacements_segment_id"),
        "timeseries_segment_replacements",
        ["segment_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_timeseries_segment_replacements_segment_id"),
        table_name="timeseries_segment_replacements",
    )
    op.drop_table("timeseries_segment_replacements")
