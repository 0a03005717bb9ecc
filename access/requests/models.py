"""Data-access requests and what happens to them: the datasets asked for, collaborators, votes,
conflicts, questions and each committee's decision."""

from __future__ import annotations

from datetime import datetime

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

from access.identity.models import User
from core.db import Base, UTCDateTime
from core.field_encryption import EncryptedText


class AccessRequest(Base):
    __tablename__ = "access_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    # What the applicant wrote about their work and people: encrypted at rest (README,
    # "Sensitive data at rest").
    research_use_statement: Mapped[str] = mapped_column(
        EncryptedText("access_requests.research_use_statement")
    )
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    approved_days: Mapped[int | None] = mapped_column(Integer)
    # What a dbGaP request asks for besides the title and the research-use statement.
    non_technical_summary: Mapped[str] = mapped_column(
        EncryptedText("access_requests.non_technical_summary"), default=""
    )
    cloud_use_statement: Mapped[str] = mapped_column(
        EncryptedText("access_requests.cloud_use_statement"), default=""
    )
    it_director_name: Mapped[str] = mapped_column(
        EncryptedText("access_requests.it_director_name"), default=""
    )
    it_director_email: Mapped[str] = mapped_column(
        EncryptedText("access_requests.it_director_email"), default=""
    )
    # The research purpose in DUO terms, read by the data-use match (access/duo/match.py).
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
    close_out_statement: Mapped[str | None] = mapped_column(
        EncryptedText("access_requests.close_out_statement")
    )
    renewal_of_id: Mapped[int | None] = mapped_column(ForeignKey("access_requests.id"), index=True)
    progress_report: Mapped[str | None] = mapped_column(
        EncryptedText("access_requests.progress_report")
    )

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
    __table_args__ = (
        UniqueConstraint("request_id", "dataset_id"),
        # The queues ask, of each request in review, whether a part is a given committee's.
        Index("ix_requested_datasets_request_committee", "request_id", "committee_id"),
    )

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
