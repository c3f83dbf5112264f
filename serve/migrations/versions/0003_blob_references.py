"""blob references: which device uploaded which snapshot; indexes to find what references a blob

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 (hand-written; times are naive UTC)
"""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_INDEXES = [('ticket_evidence', 'photo_sha'), ('ticket_evidence', 'crop_sha'), ('tickets', 'best_photo_sha'),
            ('tickets', 'best_crop_sha'), ('edge_events', 'snapshot_sha256'), ('edge_events', 'crop_sha256')]


def upgrade() -> None:
    op.create_table('device_media',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_device_media_device_id_devices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sha256'], ['blobs.sha256'], name=op.f('fk_device_media_sha256_blobs')),
    sa.PrimaryKeyConstraint('device_id', 'sha256', name=op.f('pk_device_media'))
    )
    for table, column in _INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)
    # Snapshots events already named were their own box's (the server had no other rule).
    op.get_bind().execute(sa.text(
        "INSERT INTO device_media (device_id, sha256, created_at) "
        "SELECT m.device_id, m.sha, :now FROM ("
        " SELECT device_id, snapshot_sha256 AS sha FROM edge_events WHERE snapshot_sha256 IS NOT NULL"
        " UNION SELECT device_id, crop_sha256 AS sha FROM edge_events WHERE crop_sha256 IS NOT NULL) AS m "
        "WHERE m.sha IN (SELECT sha256 FROM blobs)"), {"now": datetime.now(UTC).replace(tzinfo=None)})


def downgrade() -> None:
    for table, column in reversed(_INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_{column}'))
    op.drop_table('device_media')
