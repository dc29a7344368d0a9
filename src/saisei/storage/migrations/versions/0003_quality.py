"""quality system: sessions, audit reviews, spec levels, QC evaluation, deviation links

Adds alert/action levels and an expected text result to specifications; purpose, the
specification used, the outcome on entry, the retest link and entry time to QC results; links
from deviations to a QC result, custody event, shipment or alarm; and two tables:
``user_sessions`` (continuous sessions for e-signatures) and ``audit_reviews``.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(), nullable=False),
        sa.Column("signings", sa.Integer(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_user_sessions_token_sha256")),
    )
    op.create_table(
        "audit_reviews",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(), nullable=False),
        sa.Column("last_audit_seq", sa.Integer(), nullable=False),
        sa.Column("events_reviewed", sa.Integer(), nullable=False),
        sa.Column("batch_content_hash", sa.String(length=64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_audit_reviews_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_audit_reviews_reviewer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["signatures.id"],
            name=op.f("fk_audit_reviews_signature_id_signatures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_reviews")),
    )
    with op.batch_alter_table("specifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alert_low", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("alert_high", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("action_low", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("action_high", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("expected_text", sa.String(length=200), nullable=True))
    with op.batch_alter_table("qc_results", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("purpose", sa.String(length=32), server_default="release", nullable=False)
        )
        batch_op.add_column(sa.Column("spec_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("retest_of_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("entered_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_qc_results_spec_id_specifications"),
            "specifications",
            ["spec_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_qc_results_retest_of_id_qc_results"),
            "qc_results",
            ["retest_of_id"],
            ["id"],
        )
    with op.batch_alter_table("deviations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("qc_result_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("custody_event_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("shipment_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("alarm_ref", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_deviations_qc_result_id_qc_results"),
            "qc_results",
            ["qc_result_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_deviations_custody_event_id_custody_events"),
            "custody_events",
            ["custody_event_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_deviations_shipment_id_shipments"),
            "shipments",
            ["shipment_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("deviations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_deviations_shipment_id_shipments"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_deviations_custody_event_id_custody_events"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_deviations_qc_result_id_qc_results"), type_="foreignkey"
        )
        for column in ("alarm_ref", "shipment_id", "custody_event_id", "qc_result_id"):
            batch_op.drop_column(column)
        batch_op.drop_column("recorded_by")
    with op.batch_alter_table("qc_results", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_qc_results_retest_of_id_qc_results"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_qc_results_spec_id_specifications"), type_="foreignkey"
        )
        for column in ("entered_at", "retest_of_id", "outcome", "spec_id", "purpose"):
            batch_op.drop_column(column)
    with op.batch_alter_table("specifications", schema=None) as batch_op:
        for column in ("expected_text", "action_high", "action_low", "alert_high", "alert_low"):
            batch_op.drop_column(column)
    op.drop_table("audit_reviews")
    op.drop_table("user_sessions")
