"""factors: the emission-factor database

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

The emission-factor database of carbonmet.factors (排放因子库): one row per version of one factor key
(product/technology/region/year/gas/gwp_set), keyed by ``factor_ref`` (the key with ``/v<n>``), written once and
audited under that ref. Re-chain ``down_revision`` onto the head this lands on when merged.
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('emission_factor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('factor_ref', sa.String(length=128), nullable=False),
    sa.Column('factor_key', sa.String(length=128), nullable=False),
    sa.Column('product', sa.String(length=64), nullable=False),
    sa.Column('technology', sa.String(length=48), nullable=False),
    sa.Column('region', sa.String(length=48), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('gas', sa.String(length=16), nullable=False),
    sa.Column('gwp_set', sa.String(length=8), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('flow_unit', sa.String(length=16), nullable=False),
    sa.Column('basis', sa.String(length=12), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('source_version', sa.String(length=64), nullable=False),
    sa.Column('clause', sa.Text(), nullable=False),
    sa.Column('evidence', sa.String(length=8), nullable=False),
    sa.Column('distribution', sa.Text(), nullable=False),
    sa.Column('pedigree', sa.String(length=40), nullable=True),
    sa.Column('pedigree_table', sa.String(length=16), nullable=False),
    sa.Column('basic_variance', sa.Float(), nullable=True),
    sa.Column('owner', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('source_file', sa.String(length=255), nullable=False),
    sa.Column('source_row', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint("basis IN ('measured', 'default', 'literature')", name=op.f('ck_emission_factor_basis')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_emission_factor_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('emission_factor_pkey')),
    sa.UniqueConstraint('factor_ref', name=op.f('emission_factor_factor_ref_key'))
    )
    with op.batch_alter_table('emission_factor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emission_factor_factor_key'), ['factor_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_emission_factor_owner'), ['owner'], unique=False)
        batch_op.create_index(batch_op.f('ix_emission_factor_product'), ['product'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('emission_factor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emission_factor_product'))
        batch_op.drop_index(batch_op.f('ix_emission_factor_owner'))
        batch_op.drop_index(batch_op.f('ix_emission_factor_factor_key'))

    op.drop_table('emission_factor')
