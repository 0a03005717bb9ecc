"""Users, roles, committees, access requests, grants and API tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime
from core.scopes import LEGACY_SCOPES


class Role(StrEnum):
    """Global roles; committee roles live on CommitteeMembership."""

    ADMIN = "admin"
    AUDITOR = "auditor"
    SIGNING_OFFICIAL = "signing_official"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(512))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(255))
    institution: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    roles: Mapped[list[RoleAssignment]] = relationship(back_populates="user", lazy="selectin")

    @property
    def display_name(self) -> str:
        return self.name or self.email or self.subject

    # flask-login's user protocol, kept here so the loader can return the model itself.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)


class RoleAssignment(Base):
    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("user_id", "role", "scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    # For a signing official: the institution they vouch for. Empty for global roles.
    scope: Mapped[str] = mapped_column(String(255), default="")

    user: Mapped[User] = relationship(back_populates="roles")


class Committee(Base):
    __tablename__ = "committees"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # The approval period a chair's decision gets when it names none.
    default_approval_days: Mapped[int] = mapped_column(Integer, default=365)


class CommitteeMembership(Base):
    __tablename__ = "committee_memberships"
    __table_args__ = (UniqueConstraint("committee_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    is_chair: Mapped[bool] = mapped_column(Boolean, default=False)


class AccessRequest(Base):
    __tablename__ = "access_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    research_use_statement: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    approved_days: Mapped[int | None] = mapped_column(Integer)
    # What a dbGaP request asks for besides the title and the research-use statement.
    non_technical_summary: Mapped[str] = mapped_column(Text, default="")
    cloud_use_statement: Mapped[str] = mapped_column(Text, default="")
    it_director_name: Mapped[str] = mapped_column(String(255), default="")
    it_director_email: Mapped[str] = mapped_column(String(320), default="")
    # The research purpose in DUO terms, read by the data-use match (access/duo_match.py).
    # Disease ids are ontology terms such as "MONDO:0005148"; empty: not disease-specific.
    purpose_disease_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    purpose_health_medical: Mapped[bool] = mapped_column(Boolean, default=False)
    purpose_methods_development: Mapped[bool] = mapped_column(Boolean, default=False)
    purpose_population_origins: Mapped[bool] = mapped_column(Boolean, default=False)
    purpose_commercial_use: Mapped[bool] = mapped_column(Boolean, default=False)
    purpose_for_profit_organisation: Mapped[bool] = mapped_column(Boolean, default=False)
    # Each submission opens a review round; votes, decisions and questions belong to one.
    review_round: Mapped[int] = mapped_column(Integer, default=0)
    endorsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    endorsed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_out_statement: Mapped[str | None] = mapped_column(Text)
    renewal_of_id: Mapped[int | None] = mapped_column(ForeignKey("access_requests.id"),
                                                      index=True)
    progress_report: Mapped[str | None] = mapped_column(Text)

    applicant: Mapped[User] = relationship(foreign_keys=[applicant_id], lazy="joined")
    datasets: Mapped[list[RequestedDataset]] = relationship(
        back_populates="request", lazy="selectin", order_by="RequestedDataset.dataset_id"
    )
    collaborators: Mapped[list[RequestCollaborator]] = relationship(
        lazy="selectin", order_by="RequestCollaborator.id"
    )


class RequestedDataset(Base):
    """One dataset of a request, with the committee that governed it when it was filed."""

    __tablename__ = "requested_datasets"
    __table_args__ = (UniqueConstraint("request_id", "dataset_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("access_requests.id"), index=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"), index=True)

    request: Mapped[AccessRequest] = relationship(back_populates="datasets")


class RequestCollaborator(Base):
    """An internal collaborator the applicant named; access only once they accept."""

    __tablename__ = "request_collaborators"
    __table_args__ = (UniqueConstraint("request_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("access_requests.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


class CommitteeDecision(Base):
    """A chair's decision on their committee's part of a request, in one review round."""

    __tablename__ = "committee_decisions"
    __table_args__ = (UniqueConstraint("request_id", "committee_id", "review_round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("access_requests.id"), index=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"))
    review_round: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(16))  # workflow.PartDecision
    reason: Mapped[str] = mapped_column(Text)
    days: Mapped[int | None] = mapped_column(Integer)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Vote(Base):
    """A committee member's vote with its rationale; the latest one per round counts."""

    __tablename__ = "request_votes"
    __table_args__ = (UniqueConstraint("request_id", "committee_id", "review_round", "voter_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("access_requests.id"), index=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"))
    review_round: Mapped[int] = mapped_column(Integer)
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    vote: Mapped[str] = mapped_column(String(16))  # approve | reject | abstain
    rationale: Mapped[str] = mapped_column(Text)
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime())

    voter: Mapped[User] = relationship(lazy="joined")


class ConflictDeclaration(Base):
    """A member's declared conflict of interest: they neither vote nor decide on the request."""

    __tablename__ = "conflict_declarations"
    __table_args__ = (UniqueConstraint("request_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("access_requests.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


class RequestQuestion(Base):
    """Why a request came back: a chair's question, or a signing official's reason to decline.

    The applicant answers every question of the round before resubmitting.
    """

    __tablename__ = "request_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("access_requests.id"), index=True)
    review_round: Mapped[int] = mapped_column(Integer)
    # None when a signing official declined; else the committee whose chair asked.
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id"))
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    asked_by: Mapped[User] = relationship(lazy="joined")


class Grant(Base):
    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    request_id: Mapped[int] = mapped_column(ForeignKey("access_requests.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(Text)

    # The signed-URL hot path looks grants up by exactly this pair.
    __table_args__ = (Index("ix_grants_user_dataset", "user_id", "dataset_id"),)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the token: the token has 256 bits of entropy, so no slow hash is needed.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Space-separated access/scopes.py names. Rows from before scopes keep full power.
    scopes: Mapped[str] = mapped_column(String(200), server_default=LEGACY_SCOPES)


class PassportGrant(Base):
    """Access a trusted broker's GA4GH visa conferred at sign-in, for the visa's lifetime.

    Only what the audit and the URL check need is kept: never the visa itself, only its hash.
    """

    __tablename__ = "passport_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(512))
    subject: Mapped[str] = mapped_column(String(255))
    jti: Mapped[str | None] = mapped_column(String(255))
    # SHA-256 of the visa JWS: the same visa presented at the next sign-in is not stored twice.
    visa_hash: Mapped[str] = mapped_column(String(64))
    asserted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("user_id", "visa_hash"),
        Index("ix_passport_grants_user_dataset", "user_id", "dataset_id"),
    )
