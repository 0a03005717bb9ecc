"""Calling the catalogue's admin API as the demo personas (Bearer tokens with every scope)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from audit.log.models import AuditEvent
from tests import factories
from tests.conftest import DemoInstance, issue_token


class Catalogue:
    def __init__(self, demo: DemoInstance) -> None:
        self.demo = demo
        self.client: FlaskClient = demo.app.test_client()
        personas = ("admin", "researcher", "signing-official")
        self.headers = {name: issue_token(demo, name) for name in personas}

    def call(self, method: str, path: str, body: Any = None, *, who: str = "admin") -> Any:
        return self.client.open(
            f"/api/v1{path}", method=method, headers=self.headers[who], json=body
        )

    def committee(self) -> int:
        with self.demo.app.extensions["custodian.session_factory"].begin() as session:
            return factories.committee(session, self.demo.clock.now()).id

    def study(self, accession: str = "phs000777") -> int:
        made = self.call("POST", "/studies", {"accession": accession, "title": "A study"})
        assert made.status_code == 201, made.get_json()
        return int(made.get_json()["id"])

    def dataset(self, **fields: Any) -> Any:
        """POST /datasets: a controlled GRU consent group unless ``fields`` say otherwise."""
        body = {
            "accession": "phs000777.v1.p1.c1",
            "name": "GRU consent group",
            "tier": "controlled",
            "duo_codes": ["GRU"],
            **fields,
        }
        if "study_id" not in body:
            body["study_id"] = self.study()
        if "committee_id" not in body and body["tier"] == "controlled":
            body["committee_id"] = self.committee()
        return self.call("POST", "/datasets", body)

    def events(self, action: str) -> list[AuditEvent]:
        with self.demo.app.extensions["custodian.session_factory"]() as session:
            return list(
                session.scalars(
                    select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
                )
            )

    def count(self, model: type[Any]) -> int:
        with self.demo.app.extensions["custodian.session_factory"]() as session:
            return session.scalar(select(func.count()).select_from(model)) or 0
