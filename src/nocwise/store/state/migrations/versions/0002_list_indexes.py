"""Indexes that match the alarm and incident lists' filters and sort orders.

The alarm list sorts newest first (``event_time DESC, alarm_id``) after an equality filter on
state, severity, managed object or incident; the incident list sorts by ``priority,
impact_score DESC, updated DESC``, optionally for one state. With one index per filter that
ends in the sort order, a page is read in index order and the database stops after it, instead
of sorting every matching row. The open-alarm index also carries ``source`` so counting open
alarms of one source never reads the table. The single-column indexes these extend are
dropped, so an upsert maintains about as many indexes as before.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Col = str | sa.TextClause
_NEWEST: tuple[Col, ...] = (sa.text("event_time DESC"), "alarm_id")
_RANK: tuple[Col, ...] = ("priority", sa.text("impact_score DESC"), sa.text("updated DESC"))
_ALARMS: dict[str, tuple[Col, ...]] = {
    "ix_alarms_active_newest": ("active", *_NEWEST, "source"),
    "ix_alarms_severity_newest": ("severity", "active", *_NEWEST),
    "ix_alarms_object_newest": ("managed_object", *_NEWEST),
    "ix_alarms_incident_newest": ("incident_id", *_NEWEST),
    "ix_alarms_newest": _NEWEST,
}
_INCIDENTS: dict[str, tuple[Col, ...]] = {
    "ix_incidents_rank": _RANK,
    "ix_incidents_state_rank": ("state", *_RANK),
}
_OLD: dict[str, dict[str, tuple[str, ...]]] = {
    "alarms": {
        "ix_alarms_active": ("active",),
        "ix_alarms_active_time": ("active", "event_time"),
        "ix_alarms_severity": ("severity",),
        "ix_alarms_managed_object": ("managed_object",),
        "ix_alarms_incident_id": ("incident_id",),
        "ix_alarms_event_time": ("event_time",),
    },
    "incidents": {
        "ix_incidents_priority": ("priority",),
        "ix_incidents_state": ("state",),
    },
}


def upgrade() -> None:
    for table, old in _OLD.items():
        for name in old:
            op.drop_index(name, table_name=table)
    for name, cols in _ALARMS.items():
        op.create_index(name, "alarms", list(cols))
    for name, cols in _INCIDENTS.items():
        op.create_index(name, "incidents", list(cols))


def downgrade() -> None:
    for name in _INCIDENTS:
        op.drop_index(name, table_name="incidents")
    for name in _ALARMS:
        op.drop_index(name, table_name="alarms")
    for table, old in _OLD.items():
        for name, cols in old.items():
            op.create_index(name, table, list(cols))
