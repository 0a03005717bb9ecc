"""Set up the demo: personas with their roles, the demo committee, and the synthetic study.

Idempotent, so ``make demo`` can run it every time: what exists is kept as it is.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from access.committees import ensure_committee, ensure_committee_member
from access.duo.codes import code_for_shorthand
from access.identity.actor import Actor
from access.identity.institutions import ensure_institution
from access.identity.models import Role, User
from access.identity.personas import DEMO_PERSONAS
from access.identity.users import ensure_user
from access.models import Committee
from access.roles import ensure_role
from datasets.agreements.versions import ensure_agreement
from datasets.catalogue.models import FileKind, Tier
from datasets.catalogue.registration import ensure_dataset, ensure_study, register_file
from datasets.demo import synthetic_study as demo_study
from datasets.demo.open_results import load_demo_results
from datasets.storage import Storage

SYSTEM_ACTOR = Actor(user=None)
COMMITTEE_NAME = "GTEx Demo Data Access Committee"
OPEN_DATASET_ACCESSION = f"{demo_study.STUDY_ACCESSION}.open-results"
DEMO_AGREEMENT = """Data-use agreement for the synthetic GTEx demo study (version 1)

1. Use the data only for the research described in your approved data-access request.
2. Do not try to identify any donor, and do not link the data to other data for that purpose.
3. Keep the data secure; do not share it with anyone who has not accepted this agreement.
4. Report any data-security incident to the data-access committee within 24 hours.
5. Delete the data when your access ends, and say so when you close out the project.
"""


def set_up_demo(session: Session, *, issuer: str, storage: Storage, now: datetime) -> None:
    users = _ensure_personas(session, issuer, now)
    committee = ensure_demo_committee(session, SYSTEM_ACTOR, now=now)
    ensure_committee_member(session, SYSTEM_ACTOR, committee, users["dac-chair"], chair=True,
                            now=now)
    ensure_committee_member(session, SYSTEM_ACTOR, committee, users["dac-member"], chair=False,
                            now=now)
    register_demo_study(session, SYSTEM_ACTOR, committee, storage=storage, now=now)


def ensure_demo_committee(session: Session, actor: Actor, *, now: datetime) -> Committee:
    return ensure_committee(
        session, actor, name=COMMITTEE_NAME, now=now,
        description="Adjudicates requests for the synthetic GTEx demo study.",
    )


def register_demo_study(
    session: Session, actor: Actor, committee: Committee, *, storage: Storage, now: datetime
) -> None:
    """Write the synthetic study, put its files in storage, catalogue them and load its open
    results into the browsable tables (idempotent)."""
    study = ensure_study(
        session, actor, accession=demo_study.STUDY_ACCESSION, title=demo_study.STUDY_TITLE,
        now=now,
        description="Synthetic donors and tissues shaped like GTEx: genotypes, gene and "
        "isoform expression, clinical attributes, and open eQTL results. No real person's data.",
    )
    controlled = ensure_dataset(
        session, actor, study, accession=demo_study.CONSENT_GROUP_ACCESSION,
        name="General Research Use (GRU) consent group", duo_codes=[code_for_shorthand("GRU")],
        duo_disease_ids=[],  # GRU is not limited to a disease; DS consent groups name theirs
        use_limitation_text="Use of the data is limited only by the terms of the data-use "
        "agreement.", committee_id=committee.id, now=now,
    )
    ensure_agreement(session, actor, controlled, text=DEMO_AGREEMENT, now=now)
    open_results = ensure_dataset(
        session, actor, study, accession=OPEN_DATASET_ACCESSION,
        name="Open-access results: eQTLs and median expression", duo_codes=[],
        use_limitation_text="", committee_id=None, now=now,
    )
    with tempfile.TemporaryDirectory() as scratch:
        for demo_file in demo_study.write_demo_study(Path(scratch)):
            tier = Tier(demo_file.tier)
            register_file(
                session, actor, controlled if tier is Tier.CONTROLLED else open_results,
                Path(scratch) / demo_file.relative_path,
                key=f"{demo_study.STUDY_ACCESSION}/{demo_file.relative_path}",
                kind=FileKind(demo_file.kind), tier=tier, description=demo_file.description,
                storage=storage, now=now,
                index_source=(Path(scratch) / demo_file.index_path
                              if demo_file.index_path else None),
            )
        load_demo_results(session, actor, Path(scratch), now=now)


def _ensure_personas(session: Session, issuer: str, now: datetime) -> dict[str, User]:
    institutions = {
        name: ensure_institution(session, SYSTEM_ACTOR, name=name, now=now)
        for name in sorted({persona.institution for persona in DEMO_PERSONAS})
    }
    users = {
        persona.username: ensure_user(
            session, SYSTEM_ACTOR, issuer=issuer, subject=persona.username, email=persona.email,
            name=persona.name, institution=institutions[persona.institution], now=now,
        )
        for persona in DEMO_PERSONAS
    }
    ensure_role(session, SYSTEM_ACTOR, users["signing-official"], Role.SIGNING_OFFICIAL,
                institution=users["signing-official"].institution, now=now)
    ensure_role(session, SYSTEM_ACTOR, users["auditor"], Role.AUDITOR, now=now)
    ensure_role(session, SYSTEM_ACTOR, users["admin"], Role.ADMIN, now=now)
    return users
