"""custody events: position in the chain and the fields the chain's hash covers

Adds to ``custody_events`` what a recorded custody event needs so that its hash link can be
recomputed from the row alone (``saisei.domain.custody.custody_event_fields``): its 1-based
position ``seq`` in its chain (unique per chain, so two writers cannot fork a chain), the
structured scans (container id + COI/DIN), the collected DIN, the patient's COI at infusion,
the QC disposition, the deviation that blocks or unblocks the chain, a comment, the time of
entry and flat details. Imported rows keep these NULL (``seq`` NULL means "not hash-linked").

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = (
    "details",
    "scans",
    "recorded_at",
    "comment",
    "deviation_ref",
    "qc_disposition",
    "patient_coi",
    "din",
    "seq",
)


def upgrade() -> None:
    with op.batch_alter_table("custody_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("din", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("patient_coi", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("qc_disposition", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("deviation_ref", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("recorded_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("scans", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_custody_events_coi_id_seq"), ["coi_id", "seq"]
        )


def downgrade() -> None:
    with op.batch_alter_table("custody_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_custody_events_coi_id_seq"), type_="unique")
        for column in _COLUMNS:
            batch_op.drop_column(column)
