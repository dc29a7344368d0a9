"""comparability studies: plans, signed amendments, runs

Three tables: ``comparability_studies`` (the current plan as JSON, its SHA-256, version,
status draft/locked/run and approval signature), ``comparability_amendments`` (each signed
change of a locked plan with the plan before, the reason and both hashes) and
``comparability_runs`` (each computation with the plan hash it ran against and a snapshot of
the lots, values and result).

Revision ID: comparability_1
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "comparability_1"
# Issued as down_revision "0004"; chained on 0005 (monitoring) so the shared tree keeps a
# single head. The lead engineer re-chains revision ids when committing.
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comparability_studies",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("product_type", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("plan_sha256", sa.String(length=64), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("locked_by", sa.String(length=64), nullable=True),
        sa.Column("locked_at", sa.DateTime(), nullable=True),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["signatures.id"],
            name=op.f("fk_comparability_studies_signature_id_signatures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comparability_studies")),
        sa.UniqueConstraint("code", name=op.f("uq_comparability_studies_code")),
    )
    op.create_table(
        "comparability_amendments",
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("previous_sha256", sa.String(length=64), nullable=False),
        sa.Column("plan_sha256", sa.String(length=64), nullable=False),
        sa.Column("previous_plan", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("after_results", sa.Boolean(), nullable=False),
        sa.Column("amended_by", sa.String(length=64), nullable=False),
        sa.Column("amended_at", sa.DateTime(), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["signatures.id"],
            name=op.f("fk_comparability_amendments_signature_id_signatures"),
        ),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["comparability_studies.id"],
            name=op.f("fk_comparability_amendments_study_id_comparability_studies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comparability_amendments")),
        sa.UniqueConstraint(
            "study_id",
            "plan_version",
            name=op.f("uq_comparability_amendments_study_id_plan_version"),
        ),
    )
    op.create_table(
        "comparability_runs",
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("run_number", sa.Integer(), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("plan_sha256", sa.String(length=64), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("ran_by", sa.String(length=64), nullable=False),
        sa.Column("ran_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["comparability_studies.id"],
            name=op.f("fk_comparability_runs_study_id_comparability_studies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comparability_runs")),
        sa.UniqueConstraint(
            "study_id", "run_number", name=op.f("uq_comparability_runs_study_id_run_number")
        ),
    )


def downgrade() -> None:
    op.drop_table("comparability_runs")
    op.drop_table("comparability_amendments")
    op.drop_table("comparability_studies")
