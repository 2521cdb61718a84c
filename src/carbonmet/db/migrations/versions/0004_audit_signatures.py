"""audit head signatures

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Signed heads of the audit chain (carbonmet.db.AuditHeadSignature): the operator's Ed25519 signature of
(seq, hash) after each audited write. See docs/audit.md, "Signed heads".
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_head_signature',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('signed_at', sa.String(length=40), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('audit_head_signature_pkey'))
    )


def downgrade() -> None:
    op.drop_table('audit_head_signature')
