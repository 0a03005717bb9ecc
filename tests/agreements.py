"""Accepting the demo's data-use agreement, as every downloader must before the first download."""

from __future__ import annotations

import requests
from flask.testing import FlaskClient
from sqlalchemy import select

from access.identity.actor import Actor
from access.identity.models import User
from datasets.agreements.versions import accept_agreement, current_agreement
from tests.conftest import DemoInstance


def accept_over_http(browser: requests.Session, base: str, dataset_id: int,
                     headers: dict[str, str] | None = None) -> None:
    """Read the current version and accept it, as a script would (cookie + CSRF, or Bearer)."""
    current = browser.get(f"{base}/api/v1/datasets/{dataset_id}/agreement", headers=headers,
                          timeout=10)
    assert current.status_code == 200, current.text
    body = current.json()
    accepted = browser.post(f"{base}/api/v1/datasets/{dataset_id}/agreement/accept",
                            headers=headers, timeout=10,
                            json={"version": body["version"], "sha256": body["sha256"]})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["accepted"] is True


def accept_with_client(client: FlaskClient, dataset_id: int, headers: dict[str, str]) -> None:
    current = client.get(f"/api/v1/datasets/{dataset_id}/agreement", headers=headers)
    assert current.status_code == 200, current.get_json()
    body = current.get_json()
    accepted = client.post(f"/api/v1/datasets/{dataset_id}/agreement/accept", headers=headers,
                           json={"version": body["version"], "sha256": body["sha256"]})
    assert accepted.status_code == 200, accepted.get_json()


def accept_as(demo: DemoInstance, username: str, dataset_id: int) -> None:
    """Through the use case, for tests that set up access without HTTP."""
    factory = demo.app.extensions["custodian.session_factory"]
    with demo.app.app_context(), factory.begin() as session:
        user = session.scalars(select(User).where(User.subject == username)).one()
        agreement = current_agreement(session, dataset_id)
        assert agreement is not None
        accept_agreement(session, Actor(user=user), dataset_id, version=agreement.version,
                         sha256=agreement.sha256, now=demo.clock.now())
