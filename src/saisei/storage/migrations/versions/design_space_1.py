"""design spaces: versioned, approvable design-space objects linked to process definitions

One table, ``design_spaces``: name and version, the process definition, status
(draft/approved), terms, reliability, parameters, covariates, attributes and specifications,
the fitted data, the result (box, PARs), the content SHA-256 and the approval signature.

Revision ID: design_space_1
Revises: comparability_1
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "design_space_1"
down_revision = "comparability_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "design_spaces",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("product_type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("terms", sa.String(length=16), nullable=False),
        sa.Column("reliability", sa.Float(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("covariates", sa.JSON(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("specs", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["process_definitions.id"],
            name=op.f("fk_design_spaces_process_id_process_definitions"),
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["signatures.id"],
            name=op.f("fk_design_spaces_signature_id_signatures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_design_spaces")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_design_spaces_name_version")),
    )


def downgrade() -> None:
    op.drop_table("design_spaces")
