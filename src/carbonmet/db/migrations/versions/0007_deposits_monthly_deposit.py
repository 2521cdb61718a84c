"""deposits monthly deposit

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

The monthly evidence deposit (月度信息化存证) of carbonmet.deposits: one row per version of one parameter of one
enterprise-month, keyed E01/2025-03/boiler_coal/activity_data/v1, written once and audited under that key (the
entry's data carry the content hash). Number it after the head it lands on when merged.
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('monthly_deposit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deposit_key', sa.String(length=128), nullable=False),
    sa.Column('enterprise', sa.String(length=64), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('source_stream', sa.String(length=96), nullable=False),
    sa.Column('parameter', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=48), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('uploaded_at', sa.String(length=40), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('authority_deadline', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('plan_version', sa.Integer(), nullable=False),
    sa.Column('source_file', sa.String(length=255), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('source_row', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint("status IN ('on_time', 'late')", name=op.f('ck_monthly_deposit_status')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_monthly_deposit_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('monthly_deposit_pkey')),
    sa.UniqueConstraint('deposit_key', name=op.f('monthly_deposit_deposit_key_key'))
    )
    with op.batch_alter_table('monthly_deposit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monthly_deposit_enterprise'), ['enterprise'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('monthly_deposit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monthly_deposit_enterprise'))

    op.drop_table('monthly_deposit')
