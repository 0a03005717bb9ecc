"""Whether someone may download a dataset's controlled files now, and if not, what they do
next (its open files anyone may download).

The same checks a signed URL passes (signed_urls.require_access), asked without refusing
or auditing anything: the dataset page and the download client's ``list`` show it before
anyone clicks. A visa presented with one request cannot be known here, so only stored
visas count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from access.grants import has_live_grant
from access.identity.actor import Actor
from access.passports.passport_grants import has_live_passport_grant
from datasets.agreements.versions import agreement_page, pending_agreement_version
from datasets.catalogue.models import Dataset, Tier


@dataclass(frozen=True)
class Standing:
    may_download: bool
    reason: str  # open | grant | visa | sign_in | accept_agreement | no_grant
    next_step: str | None  # a path of this site that lifts the refusal, when there is one


def download_standing(session: Session, actor: Actor, dataset: Dataset, now: datetime
                      ) -> Standing:
    if all(data_file.tier == Tier.OPEN for data_file in dataset.live_files):
        return Standing(True, "open", None)
    user_id = actor.user_id
    if user_id is None:
        return Standing(False, "sign_in", f"/auth/login?next=/datasets/{dataset.id}")
    if has_live_grant(session, user_id, dataset.id, now):
        if pending_agreement_version(session, user_id, dataset.id) is not None:
            return Standing(False, "accept_agreement", agreement_page(dataset.id))
        return Standing(True, "grant", None)
    if has_live_passport_grant(session, user_id, dataset.id, now):
        return Standing(True, "visa", None)
    return Standing(False, "no_grant", f"/requests/new?dataset={dataset.id}")
