"""hj212 logger credentials

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10

HJ 212 access passwords of data loggers (carbonmet.registry): one row per MN holding a salted scrypt
hash of its PW, never the password. Changes are audited (entity hj212_credential, key the MN).
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hj212_credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mn', sa.String(length=24), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('hj212_credential_pkey')),
    sa.UniqueConstraint('mn', name=op.f('hj212_credential_mn_key'))
    )


def downgrade() -> None:
    op.drop_table('hj212_credential')
