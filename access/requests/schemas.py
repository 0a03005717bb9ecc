"""JSON input and output of the request API and the request pages (input and output kept apart)."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from access.identity.schemas import UserOut
from access.requests.workflow import RequestState
from core.schemas import MAX_ID, ChangesIn, StrictBoolean, query_date


def _flag() -> fields.Boolean:
    return StrictBoolean()


DISEASE_ID = r"^[A-Za-z][A-Za-z0-9_]*:[A-Za-z0-9_.]+$"  # an ontology CURIE: MONDO:0005148


class RequestContentIn(Schema):
    """What a dbGaP-like request says; only the title and the statement are needed at first."""

    title = fields.String(required=True, validate=validate.Length(min=3, max=300))
    research_use_statement = fields.String(
        required=True, validate=validate.Length(min=20, max=10000)
    )
    non_technical_summary = fields.String(validate=validate.Length(max=5000))
    cloud_use_statement = fields.String(validate=validate.Length(max=5000))
    it_director_name = fields.String(validate=validate.Length(max=255))
    it_director_email = fields.Email(validate=validate.Length(max=320))
    purpose_disease_ids = fields.List(
        fields.String(validate=[validate.Length(max=64), validate.Regexp(
            DISEASE_ID, error="Use an ontology term id such as MONDO:0005148.")]),
        validate=validate.Length(max=20),
    )
    purpose_health_medical = _flag()
    purpose_methods_development = _flag()
    purpose_population_origins = _flag()
    purpose_commercial_use = _flag()
    purpose_for_profit_organisation = _flag()

    @validates("purpose_disease_ids")
    def _unique_diseases(self, value: list[str], **_: Any) -> None:
        if len(set(value)) != len(value):
            raise ValidationError("List each disease once.")


class RequestIn(RequestContentIn):
    dataset_ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID)),
        required=True,
        validate=validate.Length(min=1, max=50),
    )
    # Internal collaborators: users of the applicant's institution, by their email.
    collaborator_emails = fields.List(fields.Email(validate=validate.Length(max=320)),
                                      validate=validate.Length(max=20))

    @validates("dataset_ids")
    def _unique(self, value: list[int], **_: Any) -> None:
        if len(set(value)) != len(value):
            raise ValidationError("List each dataset once.")


class ReviseIn(ChangesIn, RequestContentIn):
    """Any content field may change while the request is a draft or returned."""


class RequestListQuery(Schema):
    scope = fields.String(
        load_default="mine",
        validate=validate.OneOf(["mine", "shared", "review", "endorse", "held"]),
        metadata={"description": "mine, shared (with me), review (my committees'), endorse "
                  "(my institutions'), or held: for admins, requests no signing official "
                  "could endorse (the applicant has no institution, or it has no official)"},
    )


QUEUE_STATES = ("submitted", "endorsed", "under_review", "returned", "approved", "rejected",
                "withdrawn", "expired", "revoked", "closed")


class StateList(fields.Field):  # type: ignore[type-arg]
    """``approved,rejected``: a comma-separated list of request states."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, str) or len(value) > 200:
            raise ValidationError("Give states separated by commas.")
        states = [part.strip() for part in value.split(",") if part.strip()]
        unknown = sorted(set(states) - set(QUEUE_STATES))
        if unknown or not states:
            raise ValidationError(f"Use states among: {', '.join(QUEUE_STATES)}.")
        return states


_ONE_STATE = "(" + "|".join(QUEUE_STATES) + ")"


class CommitteeQueueQuery(Schema):
    state = StateList(metadata={"type": "string", "maxLength": 200,
                                "pattern": f"^{_ONE_STATE}(,{_ONE_STATE})*$"})
    dataset_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    submitted_from = query_date()
    submitted_to = query_date()


class NoBodyIn(Schema):
    """Actions that need nothing but the request id still reject unknown fields."""


def _reason(required: bool = True) -> fields.String:
    return fields.String(required=required, validate=validate.Length(min=1, max=2000))


def _committee_id() -> fields.Integer:
    """Only needed by someone on several of the request's committees."""
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1))


class ApproveIn(Schema):
    reason = _reason()
    # Absent: the committee's approval period (one year unless the committee says otherwise).
    days = fields.Integer(strict=True, validate=validate.Range(min=1, max=3650))
    committee_id = _committee_id()


class RejectIn(Schema):
    reason = _reason()
    committee_id = _committee_id()


class ReasonIn(Schema):
    """decline, revoke, declare-conflict: the reason goes on record."""

    reason = _reason()


class EndorseIn(Schema):
    comment = fields.String(validate=validate.Length(max=2000))


class VoteIn(Schema):
    vote = fields.String(required=True, validate=validate.OneOf(["approve", "reject", "abstain"]))
    rationale = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    committee_id = _committee_id()


class ReturnIn(Schema):
    questions = fields.List(fields.String(validate=validate.Length(min=1, max=2000)),
                            required=True, validate=validate.Length(min=1, max=20))
    committee_id = _committee_id()


class AnswerIn(Schema):
    answers = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[1-9][0-9]{0,9}$",
                                                    error="Keys are question ids.")),
        values=fields.String(validate=validate.Length(min=1, max=5000)),
        required=True, validate=validate.Length(min=1, max=40),
        metadata={"minProperties": 1, "maxProperties": 40},
    )

    @post_load
    def _question_ids(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """JSON keys are text; the use case takes the question ids they name."""
        return {"answers": {int(key): text for key, text in data["answers"].items()}}


class CloseIn(Schema):
    copies_destroyed = StrictBoolean(
        required=True,
        validate=validate.Equal(True, error="Close-out needs your attestation that every "
                                "copy of the data was destroyed."))
    statement = fields.String(load_default="", validate=validate.Length(max=5000))


class RenewIn(Schema):
    progress_report = fields.String(required=True, validate=validate.Length(min=20, max=10000))


class RequestedDatasetOut(Schema):
    dataset_id = fields.Integer()
    committee_id = fields.Integer()


class CollaboratorOut(Schema):
    user_id = fields.Integer()
    name = fields.String(attribute="user.display_name")
    email = fields.String(attribute="user.email")
    invited_at = fields.DateTime()
    accepted_at = fields.DateTime(allow_none=True)


class RequestOut(Schema):
    id = fields.Integer()
    state = fields.String()
    title = fields.String()
    research_use_statement = fields.String()
    non_technical_summary = fields.String()
    cloud_use_statement = fields.String()
    it_director_name = fields.String()
    it_director_email = fields.String()
    purpose_disease_ids = fields.List(fields.String())
    purpose_health_medical = fields.Boolean()
    purpose_methods_development = fields.Boolean()
    purpose_population_origins = fields.Boolean()
    purpose_commercial_use = fields.Boolean()
    purpose_for_profit_organisation = fields.Boolean()
    applicant = fields.Nested(UserOut(only=("id", "name", "institution")))
    dataset_ids = fields.Method("_dataset_ids",
                                metadata={"type": "array", "items": {"type": "integer"}})
    datasets = fields.List(fields.Nested(RequestedDatasetOut()))
    collaborators = fields.List(fields.Nested(CollaboratorOut()))
    review_round = fields.Integer()
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    endorsed_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    approved_days = fields.Integer(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    close_out_statement = fields.String(allow_none=True)
    renewal_of_id = fields.Integer(allow_none=True)
    progress_report = fields.String(allow_none=True)

    def _dataset_ids(self, obj: Any) -> list[int]:
        return [requested.dataset_id for requested in obj.datasets]


class RequestListOut(Schema):
    requests = fields.List(fields.Nested(RequestOut), required=True)


class PartOut(Schema):
    committee_id = fields.Integer()
    committee_name = fields.String()
    dataset_ids = fields.List(fields.Integer())
    decision = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    days = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class QuestionOut(Schema):
    id = fields.Integer()
    review_round = fields.Integer()
    committee_id = fields.Integer(allow_none=True)
    asked_by = fields.String(attribute="asked_by.display_name")
    asked_at = fields.DateTime()
    question = fields.String()
    answer = fields.String(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)


class VoteOut(Schema):
    committee_id = fields.Integer()
    voter_id = fields.Integer()
    voter = fields.String(attribute="voter.display_name")
    vote = fields.String()
    rationale = fields.String()
    cast_at = fields.DateTime()


class ConflictOut(Schema):
    user_id = fields.Integer()
    user = fields.String(attribute="user.display_name")
    reason = fields.String()
    declared_at = fields.DateTime()


class RequestExtrasOut(Schema):
    """Added to RequestOut for one request: votes only for its committees and overseers."""

    parts = fields.List(fields.Nested(PartOut()))
    questions = fields.List(fields.Nested(QuestionOut()))
    votes = fields.List(fields.Nested(VoteOut()), allow_none=True)
    conflicts = fields.List(fields.Nested(ConflictOut()), allow_none=True)
    actions = fields.List(fields.String())


class RequestDetailOut(RequestOut, RequestExtrasOut):
    """One request as its page shows it: its parts, questions, the actions open to me, and
    (for its committees and overseers) votes and conflicts."""


class AdminRequestQuery(Schema):
    """The filters of the admin's list of every request; an empty field means any."""

    state = fields.String(validate=validate.OneOf([s.value for s in RequestState]))
    dataset_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    committee_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    applicant = fields.String(validate=validate.Length(min=1, max=255))
    filed_from = query_date()
    filed_to = query_date()
    stuck = fields.Boolean()
    before = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if "filed_from" in data and "filed_to" in data and data["filed_from"] > data["filed_to"]:
            raise ValidationError("The first day must not be after the last.", "filed_to")
