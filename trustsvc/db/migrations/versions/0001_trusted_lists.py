"""Trusted-list versions, trust snapshots, services with their status history, and the certificate index.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_ACCEPTED_ONLY = sa.text("status = 'accepted'")
_REFUSED_ONLY = sa.text("status = 'refused'")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "trusted_list_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("territory", sa.String(length=16), nullable=True),
        sa.Column("tsl_type", sa.String(length=64), nullable=True),
        sa.Column("is_lotl", sa.Boolean(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("issued", _utc(), nullable=True),
        sa.Column("next_update", _utc(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("received_at", _utc(), nullable=False),
        sa.Column("signer_sha256", sa.String(length=64), nullable=True),
        sa.Column("signer_subject", sa.Text(), nullable=True),
        sa.Column("signing_time", _utc(), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("verification_code", sa.String(length=64), nullable=True),
        sa.Column("verification_reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("refusal_code", sa.String(length=64), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("lotl_version_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('accepted', 'refused')", name=op.f("ck_trusted_list_version_status")),
        sa.CheckConstraint(
            "status = 'refused' OR (territory IS NOT NULL AND sequence IS NOT NULL AND verified)",
            name=op.f("ck_trusted_list_version_accepted_complete"),
        ),
        sa.CheckConstraint(
            "status = 'accepted' OR refusal_code IS NOT NULL", name=op.f("ck_trusted_list_version_refused_has_code")
        ),
        sa.ForeignKeyConstraint(
            ["lotl_version_id"],
            ["trusted_list_version.id"],
            name=op.f("fk_trusted_list_version_lotl_version_id_trusted_list_version"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_list_version")),
    )
    op.create_index(op.f("ix_trusted_list_version_lotl_version_id"), "trusted_list_version", ["lotl_version_id"])
    op.create_index("ix_trusted_list_version_sha256", "trusted_list_version", ["sha256"])
    op.create_index(
        "ix_trusted_list_version_territory_received_at", "trusted_list_version", ["territory", "received_at"]
    )
    op.create_index(
        "uq_trusted_list_version_accepted_sequence",
        "trusted_list_version",
        ["territory", "is_lotl", "sequence"],
        unique=True,
        sqlite_where=_ACCEPTED_ONLY,
        postgresql_where=_ACCEPTED_ONLY,
    )
    op.create_index(
        "uq_trusted_list_version_refused_content",
        "trusted_list_version",
        ["sha256", "refusal_code"],
        unique=True,
        sqlite_where=_REFUSED_ONLY,
        postgresql_where=_REFUSED_ONLY,
    )

    op.create_table(
        "trust_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_snapshot")),
    )
    op.create_table(
        "trust_snapshot_version",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["trust_snapshot.id"],
            name=op.f("fk_trust_snapshot_version_snapshot_id_trust_snapshot"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["trusted_list_version.id"],
            name=op.f("fk_trust_snapshot_version_version_id_trusted_list_version"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "version_id", name=op.f("pk_trust_snapshot_version")),
    )

    op.create_table(
        "trust_service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("status_start", _utc(), nullable=False),
        sa.Column("identity_digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["trusted_list_version.id"],
            name=op.f("fk_trust_service_version_id_trusted_list_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_service")),
    )
    op.create_index(op.f("ix_trust_service_version_id"), "trust_service", ["version_id"])

    op.create_table(
        "trust_service_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=128), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("start", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["trust_service.id"],
            name=op.f("fk_trust_service_status_service_id_trust_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_service_status")),
    )
    op.create_index(op.f("ix_trust_service_status_service_id"), "trust_service_status", ["service_id"])

    op.create_table(
        "certificate_index",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["trust_service.id"],
            name=op.f("fk_certificate_index_service_id_trust_service"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["trusted_list_version.id"],
            name=op.f("fk_certificate_index_version_id_trusted_list_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_index")),
        sa.UniqueConstraint("key", "service_id", name=op.f("uq_certificate_index_key_service_id")),
    )
    op.create_index(op.f("ix_certificate_index_service_id"), "certificate_index", ["service_id"])
    op.create_index(op.f("ix_certificate_index_version_id"), "certificate_index", ["version_id"])


def downgrade() -> None:
    op.drop_table("certificate_index")
    op.drop_table("trust_service_status")
    op.drop_table("trust_service")
    op.drop_table("trust_snapshot_version")
    op.drop_table("trust_snapshot")
    op.drop_table("trusted_list_version")
