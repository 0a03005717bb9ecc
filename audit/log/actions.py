"""Audit event tags: one string enum, so a search for an action finds every place that writes it."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    LOGIN = "auth:login"
    LOGIN_FAILED = "auth:login_failed"
    LOGOUT = "auth:logout"
    TOKEN_CREATE = "token:create"  # noqa: S105  (an event tag, not a secret)
    TOKEN_REFUSED = "token:refused"  # noqa: S105
    TOKEN_REVOKE = "token:revoke"  # noqa: S105
    REQUEST_CREATE = "request:create"
    REQUEST_SUBMIT = "request:submit"
    REQUEST_APPROVE = "request:approve"
    REQUEST_REJECT = "request:reject"
    REQUEST_WITHDRAW = "request:withdraw"
    REQUEST_REFUSED = "request:refused"
    REQUEST_REVISE = "request:revise"
    REQUEST_ANSWER = "request:answer"
    REQUEST_ENDORSE = "request:endorse"
    REQUEST_DECLINE = "request:decline"
    REQUEST_VOTE = "request:vote"
    REQUEST_DECLARE_CONFLICT = "request:declare_conflict"
    REQUEST_RETURN = "request:return"
    REQUEST_REVOKE = "request:revoke"
    REQUEST_CLOSE = "request:close"
    REQUEST_EXPIRE = "request:expire"
    REQUEST_RENEW = "request:renew"
    REQUEST_COLLABORATOR_ACCEPT = "request:collaborator_accept"
    GRANT_CREATE = "grant:create"
    GRANT_END = "grant:end"
    URL_ISSUE = "url:issue"
    URL_REFUSE = "url:refuse"
    FILE_SERVE = "file:serve"
    FILE_REFUSE = "file:refuse"
    VISA_ACCEPT = "passport:visa_accept"
    VISA_REFUSE = "passport:visa_refuse"
    VISA_ISSUE = "passport:visa_issue"
    AUDIT_VERIFY = "audit:verify"
    AUDIT_EXPORT = "audit:export"
    AUDIT_CHECKPOINT = "audit:checkpoint"
    AUDIT_ALERT = "audit:alert"
    AUDIT_REFUSED = "audit:refused"
    COMMITTEE_CREATE = "admin:committee_create"
    COMMITTEE_UPDATE = "admin:committee_update"
    COMMITTEE_MEMBER_ADD = "admin:committee_member_add"
    COMMITTEE_MEMBER_UPDATE = "admin:committee_member_update"
    COMMITTEE_MEMBER_REMOVE = "admin:committee_member_remove"
    ROLE_REVOKE = "admin:role_revoke"
    ADMIN_REFUSED = "admin:refused"
    USER_CREATE = "admin:user_create"
    ROLE_ASSIGN = "admin:role_assign"
    STUDY_REGISTER = "admin:study_register"
    DATASET_REGISTER = "admin:dataset_register"
    FILE_REGISTER = "admin:file_register"
    RESULTS_IMPORT = "admin:results_import"
    AGREEMENT_PUBLISH = "admin:agreement_publish"
    AGREEMENT_ACCEPT = "agreement:accept"
    AGREEMENT_REFUSED = "agreement:refused"


class Outcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    ERROR = "error"
