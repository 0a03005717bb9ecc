"""Driving data-access requests through the JSON API, as each demo persona, for the tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from audit.log.models import AuditEvent
from tests.agreements import accept_with_client
from tests.conftest import DemoInstance, issue_token
from tests.integration.audit_support import controlled_files

STATEMENT = "We study tissue-specific regulation of gene expression in ageing adults."
PERSONAS = ("researcher", "researcher2", "signing-official", "dac-chair", "dac-member",
            "auditor", "admin")

# A body each action accepts, so what is tested is who and when, never the schema.
BODIES: dict[str, dict[str, Any]] = {
    "submit": {}, "withdraw": {}, "accept": {}, "endorse": {"comment": "Known to us."},
    "revise": {"title": "A revised title"},
    "answer": {"answers": {"1": "Because."}},  # question ids are filled in where known
    "decline": {"reason": "No IRB approval attached."},
    "vote": {"vote": "approve", "rationale": "Fits the GRU consent."},
    "declare-conflict": {"reason": "I co-author with the applicant."},
    "approve": {"reason": "Consistent with GRU consent.", "days": 30},
    "reject": {"reason": "Outside the consent."},
    "return": {"questions": ["Which tissues will you analyse?"]},
    "revoke": {"reason": "Data shared outside the project."},
    "close": {"copies_destroyed": True, "statement": "Deleted from every server."},
    "renew": {"progress_report": "We finished the ageing eQTL analysis; one paper in review."},
}


class Api:
    """The JSON API as the demo personas (Bearer tokens, so no CSRF dance)."""

    def __init__(self, demo: DemoInstance, client: FlaskClient) -> None:
        self.demo = demo
        self.client = client
        self.headers = {name: issue_token(demo, name) for name in PERSONAS}
        self.dataset_id, self.file_ids = controlled_files(demo)
        # Downloads here turn on grants alone: the agreement gate has tests of its own.
        for name in ("researcher", "researcher2"):
            accept_with_client(client, self.dataset_id, self.headers[name])

    def advance(self, delta: timedelta) -> None:
        """Move the clock; tokens made before would have lapsed with it, so make new ones."""
        self.demo.clock.advance(delta)
        self.headers = {name: issue_token(self.demo, name) for name in PERSONAS}

    def post(self, who: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(f"/api/v1{path}", headers=self.headers[who], json=body or {})

    def get(self, who: str, path: str) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers[who])

    def act(self, who: str, request_id: int, action: str, body: dict[str, Any] | None = None,
            expect: int = 200) -> dict[str, Any]:
        response = self.post(who, f"/requests/{request_id}/{action}",
                             BODIES[action] if body is None else body)
        assert response.status_code == expect, (who, action, response.get_json())
        answer: dict[str, Any] = response.get_json()
        return answer

    def file(self, who: str = "researcher", **extra: Any) -> int:
        body = {"title": "Ageing eQTLs", "research_use_statement": STATEMENT,
                "dataset_ids": [self.dataset_id], **extra}
        response = self.post(who, "/requests", body)
        assert response.status_code == 201, response.get_json()
        request_id: int = response.get_json()["id"]
        return request_id

    def state(self, request_id: int, who: str = "researcher") -> str:
        shown = self.get(who, f"/requests/{request_id}")
        assert shown.status_code == 200, shown.get_json()
        state: str = shown.get_json()["state"]
        return state

    def url_status(self, who: str, file_id: int | None = None) -> int:
        file_id = self.file_ids[0] if file_id is None else file_id
        status: int = self.get(who, f"/files/{file_id}/url").status_code
        return status

    def bring_to(self, state: str, *, collaborator: bool = True, days: int = 30) -> int:
        """A new request (naming researcher2 as collaborator) driven to ``state``."""
        extra: dict[str, Any] = (
            {"collaborator_emails": ["researcher2@demo.example"]} if collaborator else {})
        request_id = self.file(**extra)
        path = {
            "draft": [], "submitted": ["submit"], "withdrawn": ["submit", "withdraw"],
            "endorsed": ["submit", "endorse"], "under_review": ["submit", "endorse", "vote"],
            "returned": ["submit", "endorse", "return"],
            "rejected": ["submit", "endorse", "reject"],
            "approved": ["submit", "endorse", "approve"],
            "revoked": ["submit", "endorse", "approve", "revoke"],
            "closed": ["submit", "endorse", "approve", "close"],
            "expired": ["submit", "endorse", "approve"],
        }[state]
        actors = {"submit": "researcher", "withdraw": "researcher", "close": "researcher",
                  "endorse": "signing-official", "vote": "dac-member"}
        for action in path:
            body = {**BODIES["approve"], "days": days} if action == "approve" else None
            self.act(actors.get(action, "dac-chair"), request_id, action, body)
        if state == "expired":
            self.advance(timedelta(days=days, seconds=1))
        assert self.state(request_id) == state
        return request_id


def events_of(demo: DemoInstance, action: str) -> int:
    with demo.app.extensions["custodian.session_factory"]() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == action)) or 0
