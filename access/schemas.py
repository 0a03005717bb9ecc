"""JSON input and output schemas of the access API (input and output kept apart)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from access.identity.institutions import canonical_ror, domain_problem, ror_problem
from access.identity.schemas import UserOut
from core.schemas import MAX_ID, ChangesIn, StrictBoolean
from core.scopes import ALL_SCOPES, decode_scopes


class TokenIn(Schema):
    name = fields.String(load_default="API token", validate=validate.Length(min=1, max=100))
    days = fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        metadata={
            "description": "Lifetime in days; default 30, at most CUSTODIAN_API_TOKEN_MAX_DAYS."
        },
    )
    scopes = fields.List(
        fields.String(validate=validate.OneOf(sorted(ALL_SCOPES))),
        load_default=None,
        validate=validate.Length(min=1, max=len(ALL_SCOPES)),
        metadata={
            "description": "What the token may do: any of "
            + ", ".join(sorted(ALL_SCOPES))
            + ". Left out: catalogue "
            "and download (those of them a token asking holds)."
        },
    )


class TokenOut(Schema):
    """The answer to creating a token: the only time the secret is ever shown."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)
    scopes = fields.Method("_scopes", metadata={"type": "array", "items": {"type": "string"}})

    def _scopes(self, obj: Any) -> list[str]:
        return sorted(decode_scopes(obj["scopes"]))


class TokenInfoOut(Schema):
    """A token as listed: never the secret, which is not stored."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    revoked_at = fields.DateTime(allow_none=True)
    scopes = fields.Method("_scopes", metadata={"type": "array", "items": {"type": "string"}})

    def _scopes(self, obj: Any) -> list[str]:
        return sorted(decode_scopes(obj.scopes))


class TokenListOut(Schema):
    tokens = fields.List(fields.Nested(TokenInfoOut), required=True)


class CommitteeIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=3, max=255))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    default_approval_days = fields.Integer(
        load_default=365, strict=True, validate=validate.Range(min=1, max=3650)
    )


class CommitteeUpdateIn(ChangesIn, CommitteeIn):
    pass


class MemberIn(Schema):
    user_id = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1)
    )
    chair = StrictBoolean(load_default=False)


class RoleIn(Schema):
    role = fields.String(
        required=True, validate=validate.OneOf(["admin", "auditor", "signing_official"])
    )
    institution_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "For signing_official (required there): the institution "
                  "they vouch for (GET /api/v1/institutions). Other roles take none."},
    )


class RorId(fields.String):
    """``https://ror.org/0xxxxxxxx`` (the bare id is taken too), with its checksum checked."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = canonical_ror(super()._deserialize(value, attr, data, **kwargs))
        problem = ror_problem(text)
        if problem:
            raise ValidationError(problem)
        return text


class EmailDomain(fields.String):
    """Lower-cased; ``example.edu`` also places people of ``med.example.edu``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip().lower().lstrip("@")
        problem = domain_problem(text)
        if problem:
            raise ValidationError(problem)
        return text


class InstitutionIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=255))
    ror_id = RorId(
        load_default=None,
        allow_none=True,
        metadata={"description": "https://ror.org/0xxxxxxxx (or the bare id); checked."},
    )
    email_domains = fields.List(
        EmailDomain(),
        load_default=list,
        validate=validate.Length(max=50),
        metadata={"description": "Verified emails at these domains (or their subdomains) "
                  "place a user here unless an admin or the identity provider's claim "
                  "says otherwise. Each domain belongs to one institution."},
    )

    @validates("name")
    def _name(self, value: str, **_: Any) -> None:
        if value != value.strip():
            raise ValidationError("No blanks at either end of the name.")
        if any(ord(char) < 32 for char in value):
            raise ValidationError("No control characters in the name.")

    @validates("email_domains")
    def _once(self, value: list[str], **_: Any) -> None:
        if len(set(value)) != len(value):
            raise ValidationError("List each domain once.")


class InstitutionUpdateIn(ChangesIn, InstitutionIn):
    pass


class InstitutionOut(Schema):
    id = fields.Integer()
    name = fields.String()
    ror_id = fields.String(allow_none=True)
    email_domains = fields.List(fields.String())
    created_at = fields.DateTime()


class InstitutionListOut(Schema):
    institutions = fields.List(fields.Nested(InstitutionOut()), required=True)


class UserUpdateIn(Schema):
    institution_id = fields.Integer(
        required=True,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "The user's institution, outranking what sign-ins say "
                  "(claim, email domain); null hands it back to the next sign-in."},
    )


class SeatIn(Schema):
    committee_id = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1)
    )
    chair = StrictBoolean(load_default=False)


class InvitationIn(Schema):
    """Invite a person by email, with the roles and committee seats they will hold."""

    email = fields.Email(required=True, validate=validate.Length(max=320))
    issuer = fields.Url(
        load_default=None,
        allow_none=True,
        schemes={"https", "http"},
        require_tld=False,
        validate=validate.Length(max=512),
        metadata={
            "description": "Bind only at a sign-in through this identity provider "
            "(its issuer URL); left out: any configured provider."
        },
    )
    roles = fields.List(fields.Nested(RoleIn()), load_default=list, validate=validate.Length(max=3))
    committees = fields.List(
        fields.Nested(SeatIn()), load_default=list, validate=validate.Length(max=50)
    )


class CommitteeOut(Schema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    default_approval_days = fields.Integer()


class MemberOut(Schema):
    user_id = fields.Integer()
    name = fields.String()
    email = fields.String(allow_none=True)
    chair = fields.Boolean()


class RoleOut(Schema):
    id = fields.Integer()
    role = fields.String()
    institution_id = fields.Integer(allow_none=True)
    institution = fields.String(attribute="institution_name", allow_none=True)


class UserAdminOut(UserOut):
    roles = fields.List(fields.Nested(RoleOut()))
    status = fields.String(
        metadata={
            "description": "invited, withdrawn, merged (into a user "
            "who had signed in), active or "
            "not_signed_in"
        }
    )
    invited_issuer = fields.String(allow_none=True)
    institution_source = fields.String(
        allow_none=True,
        metadata={"description": "admin, claim or email_domain: where the institution "
                  "came from"},
    )


class UserListOut(Schema):
    users = fields.List(fields.Nested(UserAdminOut()), required=True)


class CommitteeListOut(Schema):
    committees = fields.List(fields.Nested(CommitteeOut()), required=True)


class CommitteeDetailOut(CommitteeOut):
    """``members`` only for admins, auditors and the committee itself."""

    members = fields.List(fields.Nested(MemberOut()))
