"""adaptation jobs: site models (content-addressed), which model runs where (history, for
rollback), training jobs

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 (hand-written; times are naive UTC)
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('site_models',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('base_sha256', sa.String(length=64), nullable=True),
    sa.Column('base_name', sa.String(length=256), nullable=True),
    sa.Column('card', sa.JSON(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_site_models'))
    )
    op.create_table('model_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=256), nullable=False),
    sa.Column('model_sha256', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['model_sha256'], ['site_models.sha256'], name=op.f('fk_model_assignments_model_sha256_site_models')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_assignments'))
    )
    with op.batch_alter_table('model_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_assignments_scope'), ['scope'], unique=False)
    op.create_table('training_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=256), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=True),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('minutes', sa.Float(), nullable=False),
    sa.Column('epochs', sa.Integer(), nullable=False),
    sa.Column('base_name', sa.String(length=256), nullable=True),
    sa.Column('base_sha256', sa.String(length=64), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('new_model_sha256', sa.String(length=64), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_jobs'))
    )
    with op.batch_alter_table('training_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_jobs_state'), ['state'], unique=False)


def downgrade() -> None:
    op.drop_table('training_jobs')
    op.drop_table('model_assignments')
    op.drop_table('site_models')
