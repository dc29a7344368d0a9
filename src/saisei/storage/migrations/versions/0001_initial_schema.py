"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 22:05:07.376871
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tag", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=True),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("old_values", sa.Text(), nullable=False),
        sa.Column("new_values", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_tag"), ["tag"], unique=False)

    op.create_table(
        "donors",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("donor_type", sa.String(length=32), nullable=False),
        sa.Column("age_years", sa.Integer(), nullable=True),
        sa.Column("sex", sa.String(length=16), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_donors")),
        sa.UniqueConstraint("code", name=op.f("uq_donors_code")),
    )
    op.create_table(
        "materials",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("supplier", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_materials")),
        sa.UniqueConstraint("code", name=op.f("uq_materials_code")),
    )
    op.create_table(
        "parties",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("party_type", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("qualification_status", sa.String(length=32), nullable=False),
        sa.Column("qualified_until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties")),
        sa.UniqueConstraint("code", name=op.f("uq_parties_code")),
    )
    op.create_table(
        "process_definitions",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("product_type", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_definitions")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_process_definitions_name_version")),
    )
    op.create_table(
        "roles",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("name", name=op.f("uq_roles_name")),
    )
    op.create_table(
        "timeseries_segments",
        sa.Column("segment_id", sa.String(length=36), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_ref", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("t_start_h", sa.Float(), nullable=True),
        sa.Column("t_end_h", sa.Float(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["timeseries_segments.id"],
            name=op.f("fk_timeseries_segments_supersedes_id_timeseries_segments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeseries_segments")),
        sa.UniqueConstraint("segment_id", name=op.f("uq_timeseries_segments_segment_id")),
    )
    with op.batch_alter_table("timeseries_segments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_timeseries_segments_subject_ref"), ["subject_ref"], unique=False
        )

    op.create_table(
        "chains_of_identity",
        sa.Column("coi", sa.String(length=32), nullable=False),
        sa.Column("donor_id", sa.Integer(), nullable=False),
        sa.Column("product_type", sa.String(length=32), nullable=True),
        sa.Column("allocated_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["donor_id"], ["donors.id"], name=op.f("fk_chains_of_identity_donor_id_donors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chains_of_identity")),
        sa.UniqueConstraint("coi", name=op.f("uq_chains_of_identity_coi")),
    )
    op.create_table(
        "equipment",
        sa.Column("asset_id", sa.String(length=64), nullable=False),
        sa.Column("equipment_type", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("party_id", sa.Integer(), nullable=True),
        sa.Column("calibration_due", sa.Date(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_equipment_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment")),
        sa.UniqueConstraint("asset_id", name=op.f("uq_equipment_asset_id")),
    )
    op.create_table(
        "material_lots",
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("lot_number", sa.String(length=64), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("coa", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"], ["materials.id"], name=op.f("fk_material_lots_material_id_materials")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_lots")),
        sa.UniqueConstraint(
            "material_id", "lot_number", name=op.f("uq_material_lots_material_id_lot_number")
        ),
    )
    op.create_table(
        "process_stages",
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["process_definitions.id"],
            name=op.f("fk_process_stages_process_id_process_definitions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_stages")),
        sa.UniqueConstraint("process_id", "name", name=op.f("uq_process_stages_process_id_name")),
    )
    op.create_table(
        "quality_attributes",
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(length=100), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["process_definitions.id"],
            name=op.f("fk_quality_attributes_process_id_process_definitions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_attributes")),
        sa.UniqueConstraint(
            "process_id", "name", name=op.f("uq_quality_attributes_process_id_name")
        ),
    )
    op.create_table(
        "shipments",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_ref", sa.String(length=64), nullable=False),
        sa.Column("from_party_id", sa.Integer(), nullable=False),
        sa.Column("to_party_id", sa.Integer(), nullable=False),
        sa.Column("container_id", sa.String(length=64), nullable=True),
        sa.Column("condition_class", sa.String(length=64), nullable=True),
        sa.Column("packed_at", sa.DateTime(), nullable=True),
        sa.Column("shipped_at", sa.DateTime(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["from_party_id"], ["parties.id"], name=op.f("fk_shipments_from_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["to_party_id"], ["parties.id"], name=op.f("fk_shipments_to_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("code", name=op.f("uq_shipments_code")),
    )
    op.create_table(
        "users",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("party_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_at", sa.DateTime(), nullable=True),
        sa.Column("password_changed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_users_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "collections",
        sa.Column("din", sa.String(length=16), nullable=False),
        sa.Column("donor_id", sa.Integer(), nullable=False),
        sa.Column("coi_id", sa.Integer(), nullable=True),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("tissue_source", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=64), nullable=True),
        sa.Column("collected_at", sa.DateTime(), nullable=False),
        sa.Column("volume_ml", sa.Float(), nullable=True),
        sa.Column("total_nucleated_cells", sa.Float(), nullable=True),
        sa.Column("viability_pct", sa.Float(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["coi_id"],
            ["chains_of_identity.id"],
            name=op.f("fk_collections_coi_id_chains_of_identity"),
        ),
        sa.ForeignKeyConstraint(
            ["donor_id"], ["donors.id"], name=op.f("fk_collections_donor_id_donors")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_collections_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collections")),
        sa.UniqueConstraint("din", name=op.f("uq_collections_din")),
    )
    op.create_table(
        "custody_events",
        sa.Column("coi_id", sa.Integer(), nullable=True),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_ref", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("scanned_ids", sa.JSON(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["coi_id"],
            ["chains_of_identity.id"],
            name=op.f("fk_custody_events_coi_id_chains_of_identity"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_custody_events_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_events")),
    )
    op.create_table(
        "process_parameters",
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("parameter_class", sa.String(length=32), nullable=False),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("nor_low", sa.Float(), nullable=True),
        sa.Column("nor_high", sa.Float(), nullable=True),
        sa.Column("par_low", sa.Float(), nullable=True),
        sa.Column("par_high", sa.Float(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["process_stages.id"],
            name=op.f("fk_process_parameters_stage_id_process_stages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_parameters")),
        sa.UniqueConstraint("stage_id", "name", name=op.f("uq_process_parameters_stage_id_name")),
    )
    op.create_table(
        "signatures",
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("meaning", sa.String(length=32), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["signer_id"], ["users.id"], name=op.f("fk_signatures_signer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signatures")),
    )
    op.create_table(
        "specifications",
        sa.Column("attribute_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("lower", sa.Float(), nullable=True),
        sa.Column("upper", sa.Float(), nullable=True),
        sa.Column("text", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["attribute_id"],
            ["quality_attributes.id"],
            name=op.f("fk_specifications_attribute_id_quality_attributes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_specifications")),
        sa.UniqueConstraint(
            "attribute_id", "purpose", name=op.f("uq_specifications_attribute_id_purpose")
        ),
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name=op.f("fk_user_roles_role_id_roles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role_id", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "batches",
        sa.Column("lot_number", sa.String(length=64), nullable=False),
        sa.Column("product_type", sa.String(length=32), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=True),
        sa.Column("coi_id", sa.Integer(), nullable=True),
        sa.Column("collection_id", sa.Integer(), nullable=True),
        sa.Column("site_party_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["coi_id"], ["chains_of_identity.id"], name=op.f("fk_batches_coi_id_chains_of_identity")
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"], ["collections.id"], name=op.f("fk_batches_collection_id_collections")
        ),
        sa.ForeignKeyConstraint(
            ["process_id"],
            ["process_definitions.id"],
            name=op.f("fk_batches_process_id_process_definitions"),
        ),
        sa.ForeignKeyConstraint(
            ["site_party_id"], ["parties.id"], name=op.f("fk_batches_site_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        sa.UniqueConstraint("lot_number", name=op.f("uq_batches_lot_number")),
    )
    op.create_table(
        "batch_links",
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["batches.id"], name=op.f("fk_batch_links_child_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["batches.id"], name=op.f("fk_batch_links_parent_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_links")),
        sa.UniqueConstraint(
            "parent_id", "child_id", name=op.f("uq_batch_links_parent_id_child_id")
        ),
    )
    op.create_table(
        "deviations",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=True),
        sa.Column("capa", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_deviations_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deviations")),
        sa.UniqueConstraint("number", name=op.f("uq_deviations_number")),
    )
    op.create_table(
        "material_use",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("material_lot_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_material_use_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["material_lot_id"],
            ["material_lots.id"],
            name=op.f("fk_material_use_material_lot_id_material_lots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_use")),
    )
    op.create_table(
        "observations",
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=64), nullable=True),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_observations_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
    )
    op.create_table(
        "parameter_values",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("parameter", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("value_text", sa.String(length=200), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_parameter_values_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parameter_values")),
    )
    op.create_table(
        "qc_results",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("attribute", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("value_text", sa.String(length=200), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("method", sa.String(length=100), nullable=True),
        sa.Column("sample_id", sa.String(length=64), nullable=True),
        sa.Column("tested_at", sa.DateTime(), nullable=True),
        sa.Column("analyst", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("invalidation_reason", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_qc_results_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qc_results")),
    )
    op.create_table(
        "stage_runs",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("operator", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_stage_runs_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["equipment_id"], ["equipment.id"], name=op.f("fk_stage_runs_equipment_id_equipment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_runs")),
    )


def downgrade() -> None:
    op.drop_table("stage_runs")
    op.drop_table("qc_results")
    op.drop_table("parameter_values")
    op.drop_table("observations")
    op.drop_table("material_use")
    op.drop_table("deviations")
    op.drop_table("batch_links")
    op.drop_table("batches")
    op.drop_table("user_roles")
    op.drop_table("specifications")
    op.drop_table("signatures")
    op.drop_table("process_parameters")
    op.drop_table("custody_events")
    op.drop_table("collections")
    op.drop_table("users")
    op.drop_table("shipments")
    op.drop_table("quality_attributes")
    op.drop_table("process_stages")
    op.drop_table("material_lots")
    op.drop_table("equipment")
    op.drop_table("chains_of_identity")
    with op.batch_alter_table("timeseries_segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_timeseries_segments_subject_ref"))

    op.drop_table("timeseries_segments")
    op.drop_table("roles")
    op.drop_table("process_definitions")
    op.drop_table("parties")
    op.drop_table("materials")
    op.drop_table("donors")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_tag"))

    op.drop_table("audit_events")
    op.drop_table("audit_chain_head")
