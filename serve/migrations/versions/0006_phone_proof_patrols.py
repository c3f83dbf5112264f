"""phone: rectification proof on evidence (ticket_evidence.proof); patrols (巡河 tracks); public reports (公众举报); notifications

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 (hand-written; times are naive UTC)
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket_evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proof', sa.JSON(), nullable=True))
    op.create_table('patrols',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('segment_id', sa.String(length=128), nullable=False),
    sa.Column('segment_name', sa.String(length=256), nullable=True),
    sa.Column('river', sa.String(length=256), nullable=True),
    sa.Column('network_version', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=False),
    sa.Column('points', sa.JSON(), nullable=False),
    sa.Column('n_points', sa.Integer(), nullable=False),
    sa.Column('length_m', sa.Float(), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=False),
    sa.Column('coverage', sa.Float(), nullable=False),
    sa.Column('near_river', sa.Float(), nullable=False),
    sa.Column('max_speed_kmh', sa.Float(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('plausible', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['network_version'], ['river_networks.version'],
                            name=op.f('fk_patrols_network_version_river_networks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrols'))
    )
    with op.batch_alter_table('patrols', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patrols_username'), ['username'], unique=False)
        batch_op.create_index(batch_op.f('ix_patrols_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_patrols_plausible'), ['plausible'], unique=False)
        batch_op.create_index('ix_patrols_segment_id_started_at', ['segment_id', 'started_at'], unique=False)
    op.create_table('public_reports',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('ticket_id', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('photo_sha', sa.String(length=64), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('taken_at', sa.String(length=64), nullable=True),
    sa.Column('address_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_public_reports_ticket_id_tickets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['photo_sha'], ['blobs.sha256'], name=op.f('fk_public_reports_photo_sha_blobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_reports'))
    )
    with op.batch_alter_table('public_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_reports_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_public_reports_photo_sha'), ['photo_sha'], unique=False)
        batch_op.create_index(batch_op.f('ix_public_reports_created_at'), ['created_at'], unique=False)
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('ticket_id', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('recipient', sa.String(length=512), nullable=True),
    sa.Column('title', sa.String(length=256), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_notifications_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('key', 'channel', name=op.f('uq_notifications_key_channel'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index('ix_notifications_state_next_at', ['state', 'next_at'], unique=False)


def downgrade() -> None:
    op.drop_table('notifications')
    op.drop_table('public_reports')
    op.drop_table('patrols')
    with op.batch_alter_table('ticket_evidence', schema=None) as batch_op:
        batch_op.drop_column('proof')
