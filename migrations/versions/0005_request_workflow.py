"""request workflow: request content (dbGaP-like, DUO purpose), collaborators, endorsement,
per-committee votes and decisions, conflicts of interest, questions, close-out and renewal

New NOT NULL columns get server defaults so rows filed before this revision stay valid;
requests that were already submitted count as being in their first review round.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 16:21:47.818013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('committee_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('committee_id', sa.Integer(), nullable=False),
    sa.Column('review_round', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['committee_id'], ['committees.id'], name=op.f('fk_committee_decisions_committee_id_committees')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_committee_decisions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['request_id'], ['access_requests.id'], name=op.f('fk_committee_decisions_request_id_access_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committee_decisions')),
    sa.UniqueConstraint('request_id', 'committee_id', 'review_round', name=op.f('uq_committee_decisions_request_id_committee_id_review_round'))
    )
    with op.batch_alter_table('committee_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_committee_decisions_request_id'), ['request_id'], unique=False)

    op.create_table('conflict_declarations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('declared_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['access_requests.id'], name=op.f('fk_conflict_declarations_request_id_access_requests')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_conflict_declarations_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conflict_declarations')),
    sa.UniqueConstraint('request_id', 'user_id', name=op.f('uq_conflict_declarations_request_id_user_id'))
    )
    with op.batch_alter_table('conflict_declarations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conflict_declarations_request_id'), ['request_id'], unique=False)

    op.create_table('request_collaborators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('invited_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('accepted_at', core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['access_requests.id'], name=op.f('fk_request_collaborators_request_id_access_requests')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_request_collaborators_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_collaborators')),
    sa.UniqueConstraint('request_id', 'user_id', name=op.f('uq_request_collaborators_request_id_user_id'))
    )
    with op.batch_alter_table('request_collaborators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_collaborators_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_request_collaborators_user_id'), ['user_id'], unique=False)

    op.create_table('request_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('review_round', sa.Integer(), nullable=False),
    sa.Column('committee_id', sa.Integer(), nullable=True),
    sa.Column('asked_by_id', sa.Integer(), nullable=False),
    sa.Column('asked_at', core.db.UTCDateTime(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['asked_by_id'], ['users.id'], name=op.f('fk_request_questions_asked_by_id_users')),
    sa.ForeignKeyConstraint(['committee_id'], ['committees.id'], name=op.f('fk_request_questions_committee_id_committees')),
    sa.ForeignKeyConstraint(['request_id'], ['access_requests.id'], name=op.f('fk_request_questions_request_id_access_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_questions'))
    )
    with op.batch_alter_table('request_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_questions_request_id'), ['request_id'], unique=False)

    op.create_table('request_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('committee_id', sa.Integer(), nullable=False),
    sa.Column('review_round', sa.Integer(), nullable=False),
    sa.Column('voter_id', sa.Integer(), nullable=False),
    sa.Column('vote', sa.String(length=16), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('cast_at', core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['committee_id'], ['committees.id'], name=op.f('fk_request_votes_committee_id_committees')),
    sa.ForeignKeyConstraint(['request_id'], ['access_requests.id'], name=op.f('fk_request_votes_request_id_access_requests')),
    sa.ForeignKeyConstraint(['voter_id'], ['users.id'], name=op.f('fk_request_votes_voter_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_votes')),
    sa.UniqueConstraint('request_id', 'committee_id', 'review_round', 'voter_id', name=op.f('uq_request_votes_request_id_committee_id_review_round_voter_id'))
    )
    with op.batch_alter_table('request_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_votes_request_id'), ['request_id'], unique=False)

    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('non_technical_summary', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('cloud_use_statement', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('it_director_name', sa.String(length=255), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('it_director_email', sa.String(length=320), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('purpose_disease_ids', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('purpose_health_medical', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('purpose_methods_development', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('purpose_population_origins', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('purpose_commercial_use', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('purpose_for_profit_organisation', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('review_round', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('endorsed_at', core.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('endorsed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', core.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('close_out_statement', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('renewal_of_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('progress_report', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_access_requests_renewal_of_id'), ['renewal_of_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_access_requests_renewal_of_id_access_requests'), 'access_requests', ['renewal_of_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_access_requests_endorsed_by_id_users'), 'users', ['endorsed_by_id'], ['id'])

    with op.batch_alter_table('committees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_approval_days', sa.Integer(), nullable=False, server_default='365'))

    op.execute("UPDATE access_requests SET review_round = 1 WHERE submitted_at IS NOT NULL")



def downgrade() -> None:
    with op.batch_alter_table('committees', schema=None) as batch_op:
        batch_op.drop_column('default_approval_days')

    with op.batch_alter_table('access_requests', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_access_requests_endorsed_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_access_requests_renewal_of_id_access_requests'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_access_requests_renewal_of_id'))
        batch_op.drop_column('progress_report')
        batch_op.drop_column('renewal_of_id')
        batch_op.drop_column('close_out_statement')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('endorsed_by_id')
        batch_op.drop_column('endorsed_at')
        batch_op.drop_column('review_round')
        batch_op.drop_column('purpose_for_profit_organisation')
        batch_op.drop_column('purpose_commercial_use')
        batch_op.drop_column('purpose_population_origins')
        batch_op.drop_column('purpose_methods_development')
        batch_op.drop_column('purpose_health_medical')
        batch_op.drop_column('purpose_disease_ids')
        batch_op.drop_column('it_director_email')
        batch_op.drop_column('it_director_name')
        batch_op.drop_column('cloud_use_statement')
        batch_op.drop_column('non_technical_summary')

    with op.batch_alter_table('request_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_votes_request_id'))

    op.drop_table('request_votes')
    with op.batch_alter_table('request_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_questions_request_id'))

    op.drop_table('request_questions')
    with op.batch_alter_table('request_collaborators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_collaborators_user_id'))
        batch_op.drop_index(batch_op.f('ix_request_collaborators_request_id'))

    op.drop_table('request_collaborators')
    with op.batch_alter_table('conflict_declarations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conflict_declarations_request_id'))

    op.drop_table('conflict_declarations')
    with op.batch_alter_table('committee_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_committee_decisions_request_id'))

    op.drop_table('committee_decisions')
