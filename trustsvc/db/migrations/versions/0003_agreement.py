"""The legal teams' cross-pilot CA agreement: entries, pilots' approvals, and the hash-chained audit trail.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_NOT_WITHDRAWN = sa.text("status <> 'withdrawn'")

#: The audit chain starts from this "hash of nothing"; trustsvc.trust.agreement uses the same value.
_GENESIS = "0" * 64


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agreement_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate", sa.LargeBinary(), nullable=False),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("quality_level", sa.Integer(), nullable=False),
        sa.Column("valid_from", _utc(), nullable=False),
        sa.Column("valid_to", _utc(), nullable=True),
        sa.Column("source_document", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("proposed_at", _utc(), nullable=False),
        sa.Column("effective_from", _utc(), nullable=True),
        sa.Column("effective_to", _utc(), nullable=True),
        sa.CheckConstraint(
            "status IN ('proposed', 'in_force', 'withdrawal_proposed', 'withdrawn')",
            name=op.f("ck_agreement_entry_status"),
        ),
        sa.CheckConstraint("quality_level BETWEEN 1 AND 5", name=op.f("ck_agreement_entry_quality_level")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_entry")),
    )
    op.create_index(
        "uq_agreement_entry_active_certificate",
        "agreement_entry",
        ["certificate_sha256"],
        unique=True,
        sqlite_where=_NOT_WITHDRAWN,
        postgresql_where=_NOT_WITHDRAWN,
    )

    op.create_table(
        "agreement_approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("pilot", sa.String(length=32), nullable=False),
        sa.Column("curator", sa.String(length=128), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint("change IN ('addition', 'withdrawal')", name=op.f("ck_agreement_approval_change")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["agreement_entry.id"],
            name=op.f("fk_agreement_approval_entry_id_agreement_entry"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_approval")),
        sa.UniqueConstraint("entry_id", "change", "pilot", name=op.f("uq_agreement_approval_entry_id_change_pilot")),
    )

    op.create_table(
        "agreement_audit",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("curator", sa.String(length=128), nullable=False),
        sa.Column("pilot", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "action IN ('propose', 'approve', 'propose_withdrawal', 'approve_withdrawal', 'in_force', 'withdrawn', "
            "'import')",
            name=op.f("ck_agreement_audit_action"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["agreement_entry.id"],
            name=op.f("fk_agreement_audit_entry_id_agreement_entry"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_audit")),
        sa.UniqueConstraint("hash", name=op.f("uq_agreement_audit_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_agreement_audit_prev_hash")),
    )
    op.create_index(op.f("ix_agreement_audit_entry_id"), "agreement_audit", ["entry_id"])

    head = op.create_table(
        "agreement_audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_agreement_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_audit_head")),
    )
    # The one row every change locks: it exists from the start, so writers never race to create it.
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": _GENESIS}])


def downgrade() -> None:
    op.drop_table("agreement_audit_head")
    op.drop_index(op.f("ix_agreement_audit_entry_id"), table_name="agreement_audit")
    op.drop_table("agreement_audit")
    op.drop_table("agreement_approval")
    op.drop_index("uq_agreement_entry_active_certificate", table_name="agreement_entry")
    op.drop_table("agreement_entry")
