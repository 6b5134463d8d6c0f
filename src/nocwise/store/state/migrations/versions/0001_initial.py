"""Initial schema: alarms, incidents, topology, changes, tickets, tokens, audit, batches.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from nocwise.store.state.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alarms",
        sa.Column("alarm_id", sa.String(255), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False, index=True),
        sa.Column("managed_object", sa.String(255), nullable=False, index=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False, index=True),
        sa.Column("event_time", UTCDateTime(), nullable=False, index=True),
        sa.Column("cleared_time", UTCDateTime(), nullable=True),
        sa.Column("ack_state", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, index=True),
        sa.Column("incident_id", sa.String(64), nullable=True, index=True),
        sa.Column("doc", sa.Text(), nullable=False),
    )
    op.create_index("ix_alarms_active_time", "alarms", ["active", "event_time"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("priority", sa.Integer(), nullable=False, index=True),
        sa.Column("opened", UTCDateTime(), nullable=False),
        sa.Column("updated", UTCDateTime(), nullable=False, index=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("root_entity_id", sa.String(255), nullable=True),
        sa.Column("impact_score", sa.Float(), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("recommendations", sa.Text(), nullable=False),
    )
    op.create_table(
        "entities",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False, index=True),
        sa.Column("domain", sa.String(16), nullable=False, index=True),
        sa.Column("doc", sa.Text(), nullable=False),
    )
    op.create_table(
        "relations",
        sa.Column("src", sa.String(255), primary_key=True),
        sa.Column("dst", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
    )
    op.create_table(
        "changes",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("ts", UTCDateTime(), nullable=False, index=True),
        sa.Column("entity_id", sa.String(255), nullable=False, index=True),
        sa.Column("doc", sa.Text(), nullable=False),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("created", UTCDateTime(), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_table(
        "ingest_batches",
        sa.Column("batch_id", sa.String(255), primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "ingest_batches",
        "audit_log",
        "api_tokens",
        "tickets",
        "changes",
        "relations",
        "entities",
        "incidents",
        "alarms",
    ):
        op.drop_table(table)
