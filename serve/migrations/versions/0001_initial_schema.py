"""initial schema

Revision ID: 0001
Revises:
Create Date: 2025-06-18 (hand-checked autogenerate; times are naive UTC)
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('blobs',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_blobs'))
    )
    op.create_table('devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('token_prefix', sa.String(length=16), nullable=True),
    sa.Column('token_issued_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devices')),
    sa.UniqueConstraint('name', name=op.f('uq_devices_name')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_devices_token_hash'))
    )
    op.create_table('river_networks',
    sa.Column('version', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=256), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('geojson', sa.Text(), nullable=False),
    sa.Column('n_segments', sa.Integer(), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_river_networks'))
    )
    with op.batch_alter_table('river_networks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_river_networks_active'), ['active'], unique=False)
        batch_op.create_index(batch_op.f('ix_river_networks_sha256'), ['sha256'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('full_name', sa.String(length=128), nullable=True),
    sa.Column('segments', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('flights',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('content_key', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('n_photos', sa.Integer(), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('network_version', sa.Integer(), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['network_version'], ['river_networks.version'], name=op.f('fk_flights_network_version_river_networks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flights')),
    sa.UniqueConstraint('content_key', name=op.f('uq_flights_content_key'))
    )
    with op.batch_alter_table('flights', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flights_created_at'), ['created_at'], unique=False)

    op.create_table('sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions'))
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('detections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flight_id', sa.String(length=64), nullable=False),
    sa.Column('image_name', sa.String(length=512), nullable=False),
    sa.Column('photo_sha', sa.String(length=64), nullable=True),
    sa.Column('class_name', sa.String(length=64), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('box', sa.JSON(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('error_m', sa.Float(), nullable=True),
    sa.Column('ticket_id', sa.String(length=64), nullable=True),
    sa.Column('rule', sa.String(length=64), nullable=True),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('segment_id', sa.String(length=128), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['flight_id'], ['flights.id'], name=op.f('fk_detections_flight_id_flights'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_detections'))
    )
    with op.batch_alter_table('detections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_detections_flight_id'), ['flight_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_detections_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('flight_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flight_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=512), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('rejected', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['flight_id'], ['flights.id'], name=op.f('fk_flight_photos_flight_id_flights'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sha256'], ['blobs.sha256'], name=op.f('fk_flight_photos_sha256_blobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flight_photos')),
    sa.UniqueConstraint('flight_id', 'name', name=op.f('uq_flight_photos_flight_id_name'))
    )
    with op.batch_alter_table('flight_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flight_photos_flight_id'), ['flight_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flight_photos_sha256'), ['sha256'], unique=False)

    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('flight_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('photos_done', sa.Integer(), nullable=False),
    sa.Column('photos_total', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.String(length=128), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['flight_id'], ['flights.id'], name=op.f('fk_jobs_flight_id_flights'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_flight_id'), ['flight_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_state'), ['state'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('flight_id', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('category_zh', sa.String(length=64), nullable=True),
    sa.Column('class_name', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('error_m', sa.Float(), nullable=False),
    sa.Column('size_m', sa.Float(), nullable=True),
    sa.Column('segment_id', sa.String(length=128), nullable=True),
    sa.Column('segment_name', sa.String(length=256), nullable=True),
    sa.Column('river', sa.String(length=256), nullable=True),
    sa.Column('network_version', sa.Integer(), nullable=True),
    sa.Column('chainage_km', sa.Float(), nullable=True),
    sa.Column('bank', sa.String(length=8), nullable=True),
    sa.Column('chiefs', sa.JSON(), nullable=True),
    sa.Column('chief_level', sa.String(length=16), nullable=True),
    sa.Column('chief_name', sa.String(length=128), nullable=True),
    sa.Column('dispatched_chief', sa.String(length=128), nullable=True),
    sa.Column('rule', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('deadline_days', sa.Integer(), nullable=True),
    sa.Column('deadline', sa.DateTime(), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('was_overdue', sa.Boolean(), nullable=False),
    sa.Column('escalations', sa.Integer(), nullable=False),
    sa.Column('n_views', sa.Integer(), nullable=False),
    sa.Column('best_image', sa.String(length=512), nullable=True),
    sa.Column('best_photo_sha', sa.String(length=64), nullable=True),
    sa.Column('best_crop_sha', sa.String(length=64), nullable=True),
    sa.Column('best_box', sa.JSON(), nullable=True),
    sa.Column('properties', sa.JSON(), nullable=False),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(), nullable=True),
    sa.Column('rectified_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(), nullable=True),
    sa.Column('not_seen_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['flight_id'], ['flights.id'], name=op.f('fk_tickets_flight_id_flights'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['network_version'], ['river_networks.version'], name=op.f('fk_tickets_network_version_river_networks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_category_state', ['category', 'state', 'found_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_chief_name'), ['chief_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_deadline'), ['deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_dispatched_chief'), ['dispatched_chief'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_flight_id'), ['flight_id'], unique=False)
        batch_op.create_index('ix_tickets_found_at_id', ['found_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_lon_lat', ['lon', 'lat'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_segment_id'), ['segment_id'], unique=False)
        batch_op.create_index('ix_tickets_state_found_at', ['state', 'found_at', 'id'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_audit_log_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticket_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('flight_id', sa.String(length=64), nullable=True),
    sa.Column('find_id', sa.String(length=256), nullable=True),
    sa.Column('image_name', sa.String(length=512), nullable=True),
    sa.Column('photo_sha', sa.String(length=64), nullable=True),
    sa.Column('crop_sha', sa.String(length=64), nullable=True),
    sa.Column('box', sa.JSON(), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('error_m', sa.Float(), nullable=True),
    sa.Column('taken_at', sa.String(length=64), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_evidence_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_evidence')),
    sa.UniqueConstraint('ticket_id', 'kind', 'flight_id', 'find_id', name=op.f('uq_ticket_evidence_ticket_id_kind_flight_id_find_id'))
    )
    with op.batch_alter_table('ticket_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_evidence_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticket_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_evidence_ticket_id'))

    op.drop_table('ticket_evidence')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_state_found_at')
        batch_op.drop_index(batch_op.f('ix_tickets_segment_id'))
        batch_op.drop_index('ix_tickets_lon_lat')
        batch_op.drop_index('ix_tickets_found_at_id')
        batch_op.drop_index(batch_op.f('ix_tickets_flight_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_dispatched_chief'))
        batch_op.drop_index(batch_op.f('ix_tickets_deadline'))
        batch_op.drop_index(batch_op.f('ix_tickets_chief_name'))
        batch_op.drop_index('ix_tickets_category_state')

    op.drop_table('tickets')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_state'))
        batch_op.drop_index(batch_op.f('ix_jobs_flight_id'))

    op.drop_table('jobs')
    with op.batch_alter_table('flight_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flight_photos_sha256'))
        batch_op.drop_index(batch_op.f('ix_flight_photos_flight_id'))

    op.drop_table('flight_photos')
    with op.batch_alter_table('detections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_detections_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_detections_flight_id'))

    op.drop_table('detections')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_sessions_expires_at'))

    op.drop_table('sessions')
    with op.batch_alter_table('flights', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flights_created_at'))

    op.drop_table('flights')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    with op.batch_alter_table('river_networks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_river_networks_sha256'))
        batch_op.drop_index(batch_op.f('ix_river_networks_active'))

    op.drop_table('river_networks')
    op.drop_table('devices')
    op.drop_table('blobs')
