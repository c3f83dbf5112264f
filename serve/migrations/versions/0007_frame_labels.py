"""hand labels: every saved version of a frame's boxes (frame_labels)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 (hand-written; times are naive UTC)
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('frame_labels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('photo_sha', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('boxes', sa.JSON(), nullable=False),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=256), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['photo_sha'], ['blobs.sha256'], name=op.f('fk_frame_labels_photo_sha_blobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_frame_labels')),
    sa.UniqueConstraint('photo_sha', 'version', name=op.f('uq_frame_labels_photo_sha_version'))
    )
    with op.batch_alter_table('frame_labels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_frame_labels_photo_sha'), ['photo_sha'], unique=False)
        batch_op.create_index(batch_op.f('ix_frame_labels_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('frame_labels')
