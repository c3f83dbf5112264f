"""task queue: per-photo results of the distributed path, and each job's mode

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 (hand-written; times are naive UTC)
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mode', sa.String(length=16), server_default='threads', nullable=False))
        batch_op.add_column(sa.Column('network_version', sa.Integer(), nullable=True))
    op.create_table('photo_results',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('flight_id', sa.String(length=64), nullable=False),
    sa.Column('photo_sha', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.LargeBinary(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=128), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['flight_id'], ['flights.id'], name=op.f('fk_photo_results_flight_id_flights'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_photo_results_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_photo_results'))
    )
    with op.batch_alter_table('photo_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photo_results_flight_id'), ['flight_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_results_job_id'), ['job_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('photo_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photo_results_job_id'))
        batch_op.drop_index(batch_op.f('ix_photo_results_flight_id'))
    op.drop_table('photo_results')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('network_version')
        batch_op.drop_column('mode')
