"""review runs

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

Stored review and verification runs of carbonmet.review (审查/核查记录): ``review_run``, the findings of each run
(``review_run_finding``), the tracked findings with their lifecycle status (``review_finding``) and its history
(``review_finding_event``), and a verification's verified account (``review_verified_stream``). Every row is
audited under its table name and unique key, and reconciled. Re-chain ``down_revision`` onto the head this lands on
when merged.
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('review_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('finding_ref', sa.String(length=400), nullable=False),
    sa.Column('series', sa.String(length=140), nullable=False),
    sa.Column('enterprise', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('finding_key', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.String(length=12), nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=False),
    sa.Column('check_name', sa.String(length=48), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('recommendation', sa.Text(), nullable=False),
    sa.Column('first_run_key', sa.String(length=160), nullable=False),
    sa.Column('last_run_key', sa.String(length=160), nullable=False),
    sa.Column('updated_at', sa.String(length=40), nullable=False),
    sa.Column('updated_by', sa.String(length=96), nullable=False),
    sa.Column('acknowledged_by', sa.String(length=96), nullable=True),
    sa.Column('acknowledged_at', sa.String(length=40), nullable=True),
    sa.Column('closed_by', sa.String(length=96), nullable=True),
    sa.Column('closed_at', sa.String(length=40), nullable=True),
    sa.Column('closure_evidence', sa.Text(), nullable=True),
    sa.Column('closure_reference', sa.String(length=128), nullable=True),
    sa.Column('fixed_run_key', sa.String(length=160), nullable=True),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('open', 'acknowledged', 'closed', 'fixed', 'reopened')", name=op.f('ck_review_finding_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('review_finding_pkey')),
    sa.UniqueConstraint('finding_ref', name=op.f('review_finding_finding_ref_key'))
    )
    with op.batch_alter_table('review_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_finding_enterprise'), ['enterprise'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_finding_series'), ['series'], unique=False)

    op.create_table('review_finding_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_key', sa.String(length=40), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('enterprise', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('status_before', sa.String(length=16), nullable=True),
    sa.Column('status_after', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=96), nullable=False),
    sa.Column('at', sa.String(length=40), nullable=False),
    sa.Column('run_key', sa.String(length=160), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('reference', sa.String(length=128), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('review_finding_event_pkey')),
    sa.UniqueConstraint('event_key', name=op.f('review_finding_event_event_key_key'))
    )
    with op.batch_alter_table('review_finding_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_finding_event_finding_id'), ['finding_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_finding_event_run_key'), ['run_key'], unique=False)

    op.create_table('review_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_key', sa.String(length=160), nullable=False),
    sa.Column('series', sa.String(length=140), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('enterprise', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=96), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.Column('profile', sa.String(length=64), nullable=False),
    sa.Column('profile_version', sa.String(length=32), nullable=False),
    sa.Column('rule_files', sa.Text(), nullable=False),
    sa.Column('report_file', sa.String(length=255), nullable=True),
    sa.Column('report_sha256', sa.String(length=64), nullable=True),
    sa.Column('sampling', sa.Text(), nullable=False),
    sa.Column('materiality', sa.Text(), nullable=False),
    sa.Column('items_checked', sa.Integer(), nullable=False),
    sa.Column('counts', sa.Text(), nullable=False),
    sa.Column('previous_run_key', sa.String(length=160), nullable=True),
    sa.Column('diff_counts', sa.Text(), nullable=False),
    sa.CheckConstraint("kind IN ('review', 'verify')", name=op.f('ck_review_run_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('review_run_pkey')),
    sa.UniqueConstraint('run_key', name=op.f('review_run_run_key_key'))
    )
    with op.batch_alter_table('review_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_run_enterprise'), ['enterprise'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_run_series'), ['series'], unique=False)

    op.create_table('review_run_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurrence_key', sa.String(length=180), nullable=False),
    sa.Column('run_key', sa.String(length=160), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('enterprise', sa.String(length=64), nullable=False),
    sa.Column('finding_key', sa.String(length=255), nullable=False),
    sa.Column('change', sa.String(length=12), nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=False),
    sa.Column('check_name', sa.String(length=48), nullable=False),
    sa.Column('severity', sa.String(length=12), nullable=False),
    sa.Column('instrument', sa.String(length=64), nullable=False),
    sa.Column('point', sa.String(length=64), nullable=False),
    sa.Column('certificate', sa.String(length=64), nullable=False),
    sa.Column('standard', sa.String(length=64), nullable=False),
    sa.Column('stream', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('clause', sa.Text(), nullable=False),
    sa.Column('evidence_mark', sa.String(length=8), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('recommendation', sa.Text(), nullable=False),
    sa.Column('rule_source', sa.String(length=255), nullable=False),
    sa.Column('report_row', sa.Integer(), nullable=True),
    sa.CheckConstraint("change IN ('new', 'persisting', 'reopened')", name=op.f('ck_review_run_finding_change')),
    sa.PrimaryKeyConstraint('id', name=op.f('review_run_finding_pkey')),
    sa.UniqueConstraint('occurrence_key', name=op.f('review_run_finding_occurrence_key_key'))
    )
    with op.batch_alter_table('review_run_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_run_finding_finding_id'), ['finding_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_run_finding_run_key'), ['run_key'], unique=False)

    op.create_table('review_verified_stream',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('row_key', sa.String(length=230), nullable=False),
    sa.Column('run_key', sa.String(length=160), nullable=False),
    sa.Column('enterprise', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('stream', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('reported_amount', sa.Float(), nullable=True),
    sa.Column('verified_amount', sa.Float(), nullable=True),
    sa.Column('reported_tco2', sa.Float(), nullable=False),
    sa.Column('verified_tco2', sa.Float(), nullable=False),
    sa.Column('difference_tco2', sa.Float(), nullable=False),
    sa.Column('difference_pct', sa.Float(), nullable=True),
    sa.Column('u_tco2', sa.Float(), nullable=False),
    sa.Column('materiality_tco2', sa.Float(), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('months_checked', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('review_verified_stream_pkey')),
    sa.UniqueConstraint('row_key', name=op.f('review_verified_stream_row_key_key'))
    )
    with op.batch_alter_table('review_verified_stream', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_verified_stream_enterprise'), ['enterprise'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_verified_stream_run_key'), ['run_key'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('review_verified_stream', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_verified_stream_run_key'))
        batch_op.drop_index(batch_op.f('ix_review_verified_stream_enterprise'))

    op.drop_table('review_verified_stream')
    with op.batch_alter_table('review_run_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_run_finding_run_key'))
        batch_op.drop_index(batch_op.f('ix_review_run_finding_finding_id'))

    op.drop_table('review_run_finding')
    with op.batch_alter_table('review_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_run_series'))
        batch_op.drop_index(batch_op.f('ix_review_run_enterprise'))

    op.drop_table('review_run')
    with op.batch_alter_table('review_finding_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_finding_event_run_key'))
        batch_op.drop_index(batch_op.f('ix_review_finding_event_finding_id'))

    op.drop_table('review_finding_event')
    with op.batch_alter_table('review_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_finding_series'))
        batch_op.drop_index(batch_op.f('ix_review_finding_enterprise'))

    op.drop_table('review_finding')
