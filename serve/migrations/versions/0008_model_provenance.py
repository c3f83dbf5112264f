"""model provenance: which detector (zoo name, sha256 of the ONNX file) made each flight's
detections and each ticket

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 (hand-written)
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_TABLES = ('flights', 'tickets', 'detections')


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('model_name', sa.String(length=256), nullable=True))
            batch_op.add_column(sa.Column('model_sha256', sa.String(length=64), nullable=True))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_model_sha256'), ['model_sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_model_sha256'))
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('model_sha256')
            batch_op.drop_column('model_name')
