"""Test data made through the real use cases, one object at a time, with defaults a test
overrides only where it matters: a test that needs a second committee or one more user
makes just that, in the database it already has, instead of copying another demo.

Every factory takes the session to write in and a ``now``; names and accessions are
unique by default, so factories can be called any number of times.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import count

from sqlalchemy.orm import Session

from access.committees import ensure_committee, ensure_committee_member
from access.identity.actor import OPERATOR
from access.identity.institutions import ensure_institution
from access.identity.models import Institution, Role, User
from access.identity.users import ensure_user
from access.models import Committee, Grant
from access.passports.models import PassportGrant
from access.requests.models import AccessRequest
from access.roles import ensure_role
from datasets.catalogue.models import DataFile, Dataset, FileKind, Study, Tier
from datasets.catalogue.registration import ensure_dataset, ensure_study

_serial = count(1)
ISSUER = "https://idp.example"


def user(session: Session, now: datetime, *, subject: str | None = None,
         issuer: str = ISSUER, institution: str | None = "Example University",
         name: str | None = None, email: str | None = None,
         roles: Iterable[Role] = (), signing_official_of: str | None = None) -> User:
    """Institutions are named; the record is made the first time a name is used."""
    subject = subject or f"user-{next(_serial)}"
    made = ensure_user(session, OPERATOR, issuer=issuer, subject=subject,
                       email=email or f"{subject}@example.org", name=name or subject.title(),
                       institution=institution_named(session, now, institution)
                       if institution else None, now=now)
    for role in roles:
        ensure_role(session, OPERATOR, made, role, now=now)
    if signing_official_of is not None:
        ensure_role(session, OPERATOR, made, Role.SIGNING_OFFICIAL,
                    institution=institution_named(session, now, signing_official_of), now=now)
    return made


def institution_named(session: Session, now: datetime, name: str, *,
                      email_domains: Iterable[str] = ()) -> Institution:
    return ensure_institution(session, OPERATOR, name=name, email_domains=list(email_domains),
                              now=now)


def committee(session: Session, now: datetime, *, name: str | None = None,
              chairs: Iterable[User] = (), members: Iterable[User] = ()) -> Committee:
    made = ensure_committee(session, OPERATOR, name=name or f"DAC {next(_serial)}",
                            description="", now=now)
    for chair in chairs:
        ensure_committee_member(session, OPERATOR, made, chair, chair=True, now=now)
    for member in members:
        ensure_committee_member(session, OPERATOR, made, member, chair=False, now=now)
    return made


def study(session: Session, now: datetime, *, accession: str | None = None) -> Study:
    accession = accession or f"phs{900_000 + next(_serial)}"
    return ensure_study(session, OPERATOR, accession=accession, title=f"Study {accession}",
                        description="", now=now)


def controlled_dataset(session: Session, now: datetime, governed_by: Committee, *,
                       of_study: Study | None = None, accession: str | None = None,
                       duo_codes: Iterable[str] = ()) -> Dataset:
    """A consent group the committee governs; in a study of its own unless one is given."""
    parent = of_study or study(session, now)
    accession = accession or f"{parent.accession}.v1.p1.c{next(_serial)}"
    return ensure_dataset(session, OPERATOR, parent, accession=accession,
                          name=f"Consent group {accession}", duo_codes=list(duo_codes),
                          use_limitation_text="", committee_id=governed_by.id, now=now)


def catalogued_file(session: Session, now: datetime, dataset: Dataset, *,
                    name: str | None = None, tier: Tier = Tier.CONTROLLED) -> DataFile:
    """A catalogue row only: no stored object behind it (a test that downloads uploads one)."""
    name = name or f"file-{next(_serial)}.vcf.gz"
    made = DataFile(dataset_id=dataset.id, name=name, kind=FileKind.GENOTYPE, tier=tier,
                    storage_key=f"{dataset.accession}/{name}", size=1, md5="0" * 32,
                    sha256="0" * 64, description="", created_at=now)
    session.add(made)
    session.flush()
    return made


def grant(session: Session, now: datetime, holder: User, dataset: Dataset, *,
          days: int = 30, starts_at: datetime | None = None) -> Grant:
    """A live grant on the dataset, under an approved request of the holder's, as approval
    leaves them (the workflow's own tests go through the actions)."""
    request = AccessRequest(applicant_id=holder.id, title=f"Request {next(_serial)}",
                            research_use_statement="Tissue-specific regulation.",
                            state="approved", created_at=now, updated_at=now)
    session.add(request)
    session.flush()
    made = Grant(user_id=holder.id, dataset_id=dataset.id, request_id=request.id,
                 starts_at=starts_at or now - timedelta(days=1),
                 ends_at=now + timedelta(days=days))
    session.add(made)
    session.flush()
    return made


def sign_in_visa(session: Session, now: datetime, holder: User, dataset: Dataset, *,
                 hours: int = 1, asserted_at: datetime | None = None) -> PassportGrant:
    """A visa on the dataset as sign-in stores one: its issuer, hash and lifetime only."""
    serial = next(_serial)
    made = PassportGrant(user_id=holder.id, dataset_id=dataset.id,
                         issuer="https://broker.example", subject=f"broker-user-{serial}",
                         jti=f"jti-{serial}",
                         visa_hash=hashlib.sha256(f"visa {serial}".encode()).hexdigest(),
                         asserted_at=asserted_at or now - timedelta(days=1),
                         expires_at=now + timedelta(hours=hours), recorded_at=now)
    session.add(made)
    session.flush()
    return made
