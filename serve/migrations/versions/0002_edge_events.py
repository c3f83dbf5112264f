"""edge API: events of edge boxes, devices' latest heartbeat

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 (hand-written; times are naive UTC)
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_heartbeat_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('health', sa.JSON(), nullable=True))

    op.create_table('edge_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('reported_device', sa.String(length=256), nullable=True),
    sa.Column('camera_id', sa.String(length=256), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('phase', sa.String(length=8), nullable=False),
    sa.Column('class_name', sa.String(length=64), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('box', sa.JSON(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('error_m', sa.Float(), nullable=True),
    sa.Column('outfall_id', sa.String(length=256), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('snapshot_sha256', sa.String(length=64), nullable=True),
    sa.Column('crop_sha256', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('stored_at', sa.DateTime(), nullable=False),
    sa.Column('posts', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('rule', sa.String(length=64), nullable=True),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('segment_id', sa.String(length=128), nullable=True),
    sa.Column('network_version', sa.Integer(), nullable=True),
    sa.Column('ticket_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_edge_events_device_id_devices')),
    sa.ForeignKeyConstraint(['network_version'], ['river_networks.version'], name=op.f('fk_edge_events_network_version_river_networks')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_edge_events_ticket_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_edge_events')),
    sa.UniqueConstraint('device_id', 'event_id', name=op.f('uq_edge_events_device_id_event_id'))
    )
    with op.batch_alter_table('edge_events', schema=None) as batch_op:
        batch_op.create_index('ix_edge_events_device_id_camera_id', ['device_id', 'camera_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_edge_events_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_edge_events_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_edge_events_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_edge_events_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('edge_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_edge_events_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_edge_events_started_at'))
        batch_op.drop_index(batch_op.f('ix_edge_events_outcome'))
        batch_op.drop_index(batch_op.f('ix_edge_events_kind'))
        batch_op.drop_index('ix_edge_events_device_id_camera_id')

    op.drop_table('edge_events')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('health')
        batch_op.drop_column('last_heartbeat_at')
