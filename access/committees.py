"""Data-access committees and their members (admin acts, each one audited). The ensure_ forms
are idempotent, so set-up commands can run again safely."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from access.identity.actor import Actor
from access.identity.models import User
from access.models import Committee, CommitteeMembership
from access.requests.models import AccessRequest, RequestedDataset
from access.requests.workflow import RequestState
from access.roles import refuse_closed_invitation, require_admin
from audit.log.actions import AuditAction
from audit.log.append import record_event
from core.errors import Conflict, NotFound


def ensure_committee(
    session: Session, actor: Actor, *, name: str, description: str, now: datetime
) -> Committee:
    committee = session.scalar(select(Committee).where(Committee.name == name))
    if committee is not None:
        return committee
    committee = Committee(name=name, description=description)
    session.add(committee)
    session.flush()
    record_event(
        session,
        actor.audit(),
        AuditAction.COMMITTEE_CREATE,
        now=now,
        target_type="committee",
        target_id=committee.id,
        details={"name": name},
    )
    return committee


def ensure_committee_member(
    session: Session,
    actor: Actor,
    committee: Committee,
    user: User,
    *,
    chair: bool,
    now: datetime,
) -> None:
    membership = session.scalar(
        select(CommitteeMembership).where(
            CommitteeMembership.committee_id == committee.id, CommitteeMembership.user_id == user.id
        )
    )
    if membership is not None:
        return
    session.add(CommitteeMembership(committee_id=committee.id, user_id=user.id, is_chair=chair))
    record_event(
        session,
        actor.audit(),
        AuditAction.COMMITTEE_MEMBER_ADD,
        now=now,
        target_type="committee",
        target_id=committee.id,
        details={"user_id": user.id, "chair": chair},
    )


def list_committees(session: Session) -> list[Committee]:
    return list(session.scalars(select(Committee).order_by(Committee.name)))


def get_committee(session: Session, committee_id: int) -> Committee:
    committee = session.get(Committee, committee_id)
    if committee is None:
        raise NotFound(f"No committee {committee_id}.")
    return committee


def members_of(session: Session, committee_id: int) -> list[tuple[CommitteeMembership, User]]:
    rows = session.execute(
        select(CommitteeMembership, User)
        .join(User, User.id == CommitteeMembership.user_id)
        .where(CommitteeMembership.committee_id == committee_id)
        .order_by(User.name, User.id)
    )
    return [(membership, user) for membership, user in rows]


def create_committee(
    session: Session,
    actor: Actor,
    *,
    name: str,
    description: str,
    default_approval_days: int,
    now: datetime,
) -> Committee:
    require_admin(actor, "committee_create")
    if session.scalar(select(Committee.id).where(Committee.name == name)) is not None:
        raise Conflict(f"A committee is already called {name!r}.")
    committee = Committee(
        name=name, description=description, default_approval_days=default_approval_days
    )
    session.add(committee)
    session.flush()
    record_event(
        session,
        actor.audit(),
        AuditAction.COMMITTEE_CREATE,
        now=now,
        target_type="committee",
        target_id=committee.id,
        details={"name": name, "default_approval_days": default_approval_days},
    )
    return committee


def update_committee(
    session: Session,
    actor: Actor,
    committee_id: int,
    *,
    changes: dict[str, Any],
    now: datetime,
) -> Committee:
    require_admin(actor, "committee_update")
    committee = get_committee(session, committee_id)
    name = changes.get("name")
    if (
        name is not None
        and session.scalar(
            select(Committee.id).where(Committee.name == name, Committee.id != committee_id)
        )
        is not None
    ):
        raise Conflict(f"A committee is already called {name!r}.")
    for field, value in changes.items():
        setattr(committee, field, value)
    record_event(
        session,
        actor.audit(),
        AuditAction.COMMITTEE_UPDATE,
        now=now,
        target_type="committee",
        target_id=committee.id,
        details=dict(changes),
    )
    return committee


def set_committee_member(
    session: Session,
    actor: Actor,
    committee_id: int,
    user_id: int,
    *,
    chair: bool,
    now: datetime,
) -> CommitteeMembership:
    """Add a member, or change whether they chair; a committee may have several chairs."""
    require_admin(actor, "committee_member_set")
    committee = get_committee(session, committee_id)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    refuse_closed_invitation(user)
    membership = session.scalar(
        select(CommitteeMembership).where(
            CommitteeMembership.committee_id == committee.id, CommitteeMembership.user_id == user_id
        )
    )
    action = AuditAction.COMMITTEE_MEMBER_UPDATE
    if membership is None:
        membership = CommitteeMembership(committee_id=committee.id, user_id=user_id)
        session.add(membership)
        action = AuditAction.COMMITTEE_MEMBER_ADD
    membership.is_chair = chair
    session.flush()
    record_event(
        session,
        actor.audit(),
        action,
        now=now,
        target_type="committee",
        target_id=committee.id,
        details={"user_id": user_id, "chair": chair},
    )
    return membership


def remove_committee_member(
    session: Session, actor: Actor, committee_id: int, user_id: int, *, now: datetime
) -> None:
    require_admin(actor, "committee_member_remove")
    membership = session.scalar(
        select(CommitteeMembership).where(
            CommitteeMembership.committee_id == committee_id, CommitteeMembership.user_id == user_id
        )
    )
    if membership is None:
        raise NotFound(f"User {user_id} is not a member of committee {committee_id}.")
    session.delete(membership)
    record_event(
        session,
        actor.audit(),
        AuditAction.COMMITTEE_MEMBER_REMOVE,
        now=now,
        target_type="committee",
        target_id=committee_id,
        details={"user_id": user_id},
    )


# --- a dataset moving to another committee: which requests go with it --------------------
#
# A request's part for a dataset names the committee that governs it (RequestedDataset). A
# request no committee has seen yet (a draft, or one waiting for its signing official) simply
# follows the dataset. One that a committee is deliberating (endorsed, under review, or
# returned with its questions) would lose its votes, conflicts and questions half-way, so the
# move is refused until those are decided or withdrawn. Decided requests keep the committee
# that decided them: that is their history, and their grants stay as they are.

FOLLOW_THE_DATASET = (RequestState.DRAFT, RequestState.SUBMITTED)
BLOCK_THE_MOVE = (RequestState.ENDORSED, RequestState.UNDER_REVIEW, RequestState.RETURNED)


def requests_in_review(session: Session, dataset_id: int) -> list[int]:
    """Ids of the requests for the dataset that a committee is deliberating."""
    return list(
        session.scalars(
            select(AccessRequest.id)
            .join(RequestedDataset)
            .where(
                RequestedDataset.dataset_id == dataset_id,
                AccessRequest.state.in_([state.value for state in BLOCK_THE_MOVE]),
            )
            .order_by(AccessRequest.id)
        )
    )


def move_unreviewed_requests(session: Session, dataset_id: int, committee_id: int) -> list[int]:
    """Give the dataset's part of every request no committee has seen to the new committee;
    the ids moved, for the audit event."""
    moved = list(
        session.scalars(
            select(AccessRequest.id)
            .join(RequestedDataset)
            .where(
                RequestedDataset.dataset_id == dataset_id,
                AccessRequest.state.in_([state.value for state in FOLLOW_THE_DATASET]),
            )
            .order_by(AccessRequest.id)
        )
    )
    if moved:
        session.execute(
            update(RequestedDataset)
            .where(
                RequestedDataset.dataset_id == dataset_id, RequestedDataset.request_id.in_(moved)
            )
            .values(committee_id=committee_id)
        )
    return moved
