"""The service's JSON API as the client uses it: who am I, the catalogue, signed URLs.

Every failure becomes a ServiceError whose message a researcher can act on: the status,
the service's own explanation, and what to do next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from datasets.client.login_file import Login

TIMEOUT_SECONDS = 30
# A path of the service in a message: after a space or bracket, starting with one slash.
RELATIVE_PATH = re.compile(r"(?<=[\s(])/(?!/)[^\s)]*")
USER_AGENT = "custodian-download/1"
HINTS = {
    401: 'create a new token on the service\'s "API tokens" page and run '
    "`custodian-download login` again",
}


class ServiceError(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Access:
    """The service's word on whether you may download a dataset's controlled files now."""

    may_download: bool
    reason: str
    next_step: str | None  # an absolute URL: sign in, request access, accept the agreement


@dataclass(frozen=True)
class CatalogueFile:
    id: int
    name: str
    size: int
    sha256: str
    tier: str
    dataset_id: int
    dataset: str  # the consent group's accession
    access: Access | None = None  # None from a service that does not say

    @property
    def may_download(self) -> bool | None:
        if self.tier == "open":
            return True
        return None if self.access is None else self.access.may_download


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires_at: datetime

    def nearly_expired(self, margin: timedelta, now: datetime | None = None) -> bool:
        """Close enough to its end that the next ranged request should ask for a fresh one."""
        expires = self.expires_at if self.expires_at.tzinfo else self.expires_at.replace(tzinfo=UTC)
        return expires - (now or datetime.now(UTC)) < margin


def new_session() -> requests.Session:
    """One place that makes HTTP sessions (tests attach hooks here)."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


class Service:
    def __init__(self, login: Login) -> None:
        self.url = login.url.rstrip("/")
        self._http = new_session()
        self._http.headers["Authorization"] = f"Bearer {login.token}"

    def me(self) -> dict[str, Any]:
        return self._get("/api/v1/users/me")

    def files(self, dataset: str | None = None) -> list[CatalogueFile]:
        """Every catalogued file, or those of one dataset (by id or accession)."""
        summaries = self._get("/api/v1/datasets")["datasets"]
        if dataset is not None:
            summaries = [d for d in summaries if dataset in (str(d["id"]), d["accession"])]
            if not summaries:
                raise ServiceError(f"No dataset {dataset!r} in the catalogue.", 404)
        found: list[CatalogueFile] = []
        for summary in summaries:
            detail = self._get(f"/api/v1/datasets/{summary['id']}")
            said = detail.get("your_access")
            access = None if not isinstance(said, dict) else Access(
                bool(said.get("may_download")), str(said.get("reason", "")),
                str(said["next_step"]) if said.get("next_step") else None)
            found.extend(
                CatalogueFile(
                    id=int(f["id"]),
                    name=str(f["name"]),
                    size=int(f["size"]),
                    sha256=str(f["sha256"]).lower(),
                    tier=str(f["tier"]),
                    dataset_id=int(detail["id"]),
                    dataset=str(detail["accession"]),
                    access=access,
                )
                for f in detail["files"]
            )
        return found

    def signed_url(self, file_id: int) -> SignedUrl:
        issued = self._get(f"/api/v1/files/{file_id}/url")
        return SignedUrl(str(issued["url"]), datetime.fromisoformat(str(issued["expires_at"])))

    def htsget_ticket(
        self, endpoint: str, file_id: int, body: dict[str, Any] | None
    ) -> dict[str, Any]:
        """A ticket from /ga4gh/htsget/v1: GET for the whole file, POST with the regions."""
        path = f"/ga4gh/htsget/v1/{endpoint}/{file_id}"
        return self._get(path, send=body)

    def _get(self, path: str, send: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET, or POST ``send`` as JSON."""
        try:
            if send is None:
                response = self._http.get(self.url + path, timeout=TIMEOUT_SECONDS)
            else:
                response = self._http.post(self.url + path, json=send, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            raise ServiceError(f"Cannot reach {self.url} ({type(exc).__name__}).") from None
        if response.status_code != 200:
            raise ServiceError(_explain(response, self.url), response.status_code)
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            raise ServiceError(
                f"{self.url} did not answer with JSON; is it a Custodian service?"
            ) from None
        return body


def _explain(response: requests.Response, base_url: str) -> str:
    """The service's own words: /api's error shape, or htsget's {"htsget": {"message"}};
    the paths it names (``/datasets/1/agreement``) become links one can open."""
    try:
        answer = response.json()
        said = str(
            answer["htsget"]["message"] if "htsget" in answer else answer["error"]["message"]
        )
    except (ValueError, KeyError, TypeError):
        said = response.reason or "no explanation"
    said = RELATIVE_PATH.sub(lambda match: base_url + match[0], said)
    hint = HINTS.get(response.status_code)
    return f"{response.status_code}: {said}" + (f" ({hint})" if hint else "")
