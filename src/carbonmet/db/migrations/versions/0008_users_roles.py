"""users roles

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

Users, roles and verifier assignments, and API keys (carbonmet.users): ``app_user`` (password as an Argon2id
hash), ``verifier_assignment`` (key ``<verifier>/<org>``) and ``api_key`` (only the SHA-256 of the secret).
Every row is audited under its table name and key, and reconciled.
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('org_code', sa.String(length=64), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.CheckConstraint("role IN ('regulator', 'centre', 'verifier', 'enterprise')", name=op.f('ck_app_user_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('app_user_pkey')),
    sa.UniqueConstraint('username', name=op.f('app_user_username_key'))
    )
    op.create_table('verifier_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_key', sa.String(length=140), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('org_code', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('verifier_assignment_pkey')),
    sa.UniqueConstraint('assignment_key', name=op.f('verifier_assignment_assignment_key_key'))
    )
    with op.batch_alter_table('verifier_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verifier_assignment_username'), ['username'], unique=False)
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=128), nullable=False),
    sa.Column('secret_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('api_key_pkey')),
    sa.UniqueConstraint('key_id', name=op.f('api_key_key_id_key'))
    )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_username'), ['username'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_username'))
    op.drop_table('api_key')
    with op.batch_alter_table('verifier_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verifier_assignment_username'))
    op.drop_table('verifier_assignment')
    op.drop_table('app_user')
