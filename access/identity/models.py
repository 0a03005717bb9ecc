"""People as the service knows them: users, by their identity provider's issuer and subject,
their institutions and their roles; and people invited by email who have not signed in yet."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from core.db import Base, UTCDateTime
from core.field_encryption import EncryptedText, data_keys_of


class Role(StrEnum):
    """Global roles; committee roles live on CommitteeMembership."""

    ADMIN = "admin"
    AUDITOR = "auditor"
    SIGNING_OFFICIAL = "signing_official"


# An invited person is a user row under this issuer until their first sign-in with a
# verified email replaces it with the real one. Issuers are https URLs, so no sign-in
# can ever match it; the row exists so roles and committee seats can be given ahead.
INVITED_ISSUER = "urn:custodian:invited"


class Invitation(StrEnum):
    PENDING = "pending"
    BOUND = "bound"  # a sign-in took it: the row is that person now, or gave them its roles
    WITHDRAWN = "withdrawn"


class InstitutionSource(StrEnum):
    """Where a user's institution came from; an admin's setting outranks the sign-in's."""

    ADMIN = "admin"
    CLAIM = "claim"  # the identity provider's institution claim named it
    EMAIL_DOMAIN = "email_domain"


class Institution(Base):
    """A research organisation whose signing officials vouch for its researchers."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    # https://ror.org/0xxxxxxxx, when the organisation has one.
    ror_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # Loaded when asked for, not with the institution: every request loads its user and so
    # the user's institution, and only the institution pages and sign-in placement read
    # the domains (list_institutions loads them for all at once).
    domains: Mapped[list[InstitutionDomain]] = relationship(
        order_by="InstitutionDomain.domain", cascade="all, delete-orphan"
    )

    @property
    def email_domains(self) -> list[str]:
        return [d.domain for d in self.domains]


class InstitutionDomain(Base):
    """An email domain whose verified addresses place a user at the institution; a domain
    belongs to one institution at most."""

    __tablename__ = "institution_domains"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)


def email_is(session: Session, email: str) -> ColumnElement[bool]:
    """Users whose email is this one, case and blanks aside, under any data key."""
    keys = data_keys_of(session.get_bind().dialect)
    return User.email_lookup.in_(keys.lookups(email, "users.email"))


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("issuer", "subject"),
        Index("ix_users_invitation_email_lookup", "invitation", "email_lookup"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(512))
    subject: Mapped[str] = mapped_column(String(255))
    # Encrypted at rest; found by value through its lookup hash (``email_is``).
    email: Mapped[str | None] = mapped_column(EncryptedText("users.email", lookup="email_lookup"))
    email_lookup: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(255))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"), index=True)
    institution_source: Mapped[str | None] = mapped_column(String(16))  # InstitutionSource
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the provider said at the last sign-in: only a verified email may bind invitations.
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    invitation: Mapped[str | None] = mapped_column(String(16))  # Invitation, if invited
    # An invitation may name the provider the person must come through.
    invited_issuer: Mapped[str | None] = mapped_column(String(512))
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    roles: Mapped[list[RoleAssignment]] = relationship(back_populates="user", lazy="selectin")
    institution: Mapped[Institution | None] = relationship(lazy="joined")

    @property
    def display_name(self) -> str:
        return self.name or self.email or self.subject

    @property
    def institution_name(self) -> str | None:
        return self.institution.name if self.institution is not None else None

    @property
    def status(self) -> str:
        """invited, withdrawn or merged (into someone who had signed in before) for an
        invitation; else active, or not_signed_in when known only by issuer and subject."""
        if self.issuer == INVITED_ISSUER:
            if self.invitation == Invitation.PENDING:
                return "invited"
            return "withdrawn" if self.invitation == Invitation.WITHDRAWN else "merged"
        return "active" if self.last_login_at is not None else "not_signed_in"

    # flask-login's user protocol, kept here so the loader can return the model itself.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)


class RoleAssignment(Base):
    __tablename__ = "role_assignments"
    # Global roles have no institution, and NULLs never collide: ensure_role checks those.
    __table_args__ = (
        UniqueConstraint("user_id", "role", "institution_id"),
        Index("ix_role_assignments_role_institution", "role", "institution_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    # For a signing official: the institution they vouch for. None for global roles.
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"))

    user: Mapped[User] = relationship(back_populates="roles")
    institution: Mapped[Institution | None] = relationship(lazy="joined")

    @property
    def institution_name(self) -> str | None:
        return self.institution.name if self.institution is not None else None


class UserSession(Base):
    """One browser sign-in. The cookie carries a random id; only its SHA-256 is stored, so
    a database dump does not hand out sessions. Ending the row ends the cookie everywhere
    it was copied."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_live", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_reason: Mapped[str | None] = mapped_column(String(32))
