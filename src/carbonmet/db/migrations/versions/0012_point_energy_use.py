"""registry: a measurement point's declared energy use

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

Two nullable columns on ``measurement_point``: ``energy_use`` and ``energy_use_unit``, the consumption (or
power) the enterprise declares for the unit or equipment a point meters (JJF 1356-2012 Table B.2 主要用能设备一览表).
The review compares it with the GB 17167-2006 Table 1 / Table 2 thresholds that make a secondary unit or an
equipment "main". Re-chain ``down_revision`` onto the head this lands on when merged (0010 and 0011 are added
in parallel).
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('measurement_point') as batch:
        batch.add_column(sa.Column('energy_use', sa.Float(), nullable=True))
        batch.add_column(sa.Column('energy_use_unit', sa.String(length=48), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('measurement_point') as batch:
        batch.drop_column('energy_use_unit')
        batch.drop_column('energy_use')
