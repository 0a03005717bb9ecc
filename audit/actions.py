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
    GRANT_CREATE = "grant:create"
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
    COMMITTEE_MEMBER_ADD = "admin:committee_member_add"
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
