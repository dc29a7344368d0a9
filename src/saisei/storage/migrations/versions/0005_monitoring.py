"""monitoring models and alarms

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_models",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("product_type", sa.String(length=32), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("lots", sa.JSON(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("artefact", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_models")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_monitoring_models_name_version")),
    )
    op.create_table(
        "monitoring_alarms",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("t_h", sa.Float(), nullable=False),
        sa.Column("statistic", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("limit", sa.Float(), nullable=False),
        sa.Column("top_variables", sa.JSON(), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_monitoring_alarms_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["monitoring_models.id"],
            name=op.f("fk_monitoring_alarms_model_id_monitoring_models"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_alarms")),
        sa.UniqueConstraint(
            "model_id", "batch_id", "t_h", name=op.f("uq_monitoring_alarms_model_id_batch_id_t_h")
        ),
    )


def downgrade() -> None:
    op.drop_table("monitoring_alarms")
    op.drop_table("monitoring_models")
