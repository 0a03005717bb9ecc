"""A demo service that trusts a test broker (and itself), served over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from access.identity.models import User
from access.models import Grant
from access.requests.models import AccessRequest
from app import create_app
from audit.log.models import AuditEvent
from config.identity import TrustedBroker
from datasets.catalogue.models import DataFile, Dataset
from datasets.demo.synthetic_study import CONSENT_GROUP_ACCESSION
from tests.conftest import DemoInstance
from tests.live_server import serving
from tests.passport_broker import Broker


@dataclass
class Trusting:
    demo: DemoInstance
    app: Flask
    broker: Broker
    stranger: Broker  # serves a key set too, but nobody trusts it

    @property
    def base(self) -> str:
        return self.demo.base_url

    def now(self) -> datetime:
        return self.demo.clock.now()

    def session(self) -> Session:
        session: Session = self.app.extensions["custodian.session_factory"]()
        return session

    def controlled(self) -> tuple[int, DataFile]:
        """The GRU consent group's id and its first file."""
        with self.session() as session:
            dataset = session.scalars(
                select(Dataset).where(Dataset.accession == CONSENT_GROUP_ACCESSION)).one()
            return dataset.id, dataset.files[0]

    def events(self, action: str) -> list[AuditEvent]:
        with self.session() as session:
            return list(session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))

    def user(self, username: str) -> User:
        with self.session() as session:
            return session.scalars(select(User).where(User.subject == username)).one()

    def grant(self, username: str, *, starts: timedelta = timedelta(days=-1),
              ends: timedelta = timedelta(days=30)) -> Grant:
        return give_grant(self.app, self.demo.clock.now(), username, starts=starts, ends=ends)


def give_grant(app: Flask, now: datetime, username: str, *,
               starts: timedelta = timedelta(days=-1), ends: timedelta = timedelta(days=30)
               ) -> Grant:
    """A grant on the GRU consent group, written as approval would (request and grant)."""
    with app.extensions["custodian.session_factory"].begin() as session:
        dataset = session.scalars(
            select(Dataset).where(Dataset.accession == CONSENT_GROUP_ACCESSION)).one()
        user = session.scalars(select(User).where(User.subject == username)).one()
        request = AccessRequest(applicant_id=user.id, title="Ageing eQTLs",
                                research_use_statement="Tissue-specific regulation.",
                                state="approved", created_at=now, updated_at=now)
        session.add(request)
        session.flush()
        grant = Grant(user_id=user.id, dataset_id=dataset.id, request_id=request.id,
                      starts_at=now + starts, ends_at=now + ends)
        session.add(grant)
        session.flush()
        session.expunge(grant)
    return grant


@pytest.fixture
def trusting(demo: DemoInstance) -> Iterator[Trusting]:
    broker, stranger = Broker().start(), Broker().start()
    settings = replace(demo.settings, passport_trusted_brokers=(
        TrustedBroker(broker.issuer, (broker.jku,)),
        TrustedBroker(demo.base_url, (f"{demo.base_url}/.well-known/jwks.json",)),
    ))
    app = create_app(settings, clock=demo.clock)
    try:
        with serving(app, int(demo.base_url.rsplit(":", 1)[1])):
            yield Trusting(demo, app, broker, stranger)
    finally:
        app.extensions["custodian.engine"].dispose()
        broker.stop()
        stranger.stop()
