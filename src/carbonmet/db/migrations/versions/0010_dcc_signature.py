"""registry: the XML signature of a DCC as checked on import

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

Four nullable columns on ``certificate`` (NULL for certificates that are not DCCs): ``signature_status``
(valid / invalid / unsigned / signer_untrusted / signer_revoked), ``signature_reason``, ``signature_signer``
(the signer certificate's subject) and ``signature_accepted`` (the operator's reason for accepting a DCC whose
signature check failed). Re-chain ``down_revision`` onto the head this lands on when merged.
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_STATUSES = "('valid', 'invalid', 'unsigned', 'signer_untrusted', 'signer_revoked')"


def upgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signature_status', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('signature_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('signature_signer', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('signature_accepted', sa.Text(), nullable=True))
        batch_op.create_check_constraint(
            'ck_cert_signature_status', f"signature_status IS NULL OR signature_status IN {_STATUSES}")


def downgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_constraint('ck_cert_signature_status', type_='check')
        batch_op.drop_column('signature_accepted')
        batch_op.drop_column('signature_signer')
        batch_op.drop_column('signature_reason')
        batch_op.drop_column('signature_status')
