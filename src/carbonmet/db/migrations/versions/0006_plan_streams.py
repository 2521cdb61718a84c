"""monitoring plan stream rows

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

The optional streams table of the monitoring plan (carbonmet.sites): per plan version and source stream,
its kind (fuel_combustion, raw_material, product, …), material, form, carbon-balance group and steam
enthalpy. Written and audited (entity monitoring_plan_stream, key E01@2) only for versions that have
stream rows, so versions stored before this revision are unchanged.
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('monitoring_plan_stream',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('source_stream', sa.String(length=96), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('material', sa.String(length=64), nullable=True),
    sa.Column('form', sa.String(length=16), nullable=True),
    sa.Column('balance', sa.String(length=96), nullable=True),
    sa.Column('enthalpy_kj_per_kg', sa.Float(), nullable=True),
    sa.Column('enthalpy_u_rel', sa.Float(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('fuel_combustion', 'raw_material', 'product', 'by_product', 'waste', 'residue', "
                       "'co2_recovered', 'purchased_electricity', 'exported_electricity', 'purchased_heat', "
                       "'exported_heat', 'measured_emission', 'other')",
                       name=op.f('ck_monitoring_plan_stream_kind')),
    sa.ForeignKeyConstraint(['plan_id'], ['monitoring_plan.id'], name=op.f('monitoring_plan_stream_plan_id_fkey')),
    sa.PrimaryKeyConstraint('id', name=op.f('monitoring_plan_stream_pkey')),
    sa.UniqueConstraint('plan_id', 'position', name=op.f('monitoring_plan_stream_plan_id_position_key')),
    sa.UniqueConstraint('plan_id', 'source_stream', name=op.f('monitoring_plan_stream_plan_id_source_stream_key'))
    )


def downgrade() -> None:
    op.drop_table('monitoring_plan_stream')
