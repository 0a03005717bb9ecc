"""What the access package's routes and commands take from the app, set once by
``access.install``: the only place that reads them back."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from access.passports.verify import PassportVerifier
from access.passports.visas import VisaSigner
from access.ports import DatasetDirectory
from access.requests.actions import Collaborators
from access.requests.notices import Notices

_KEY = "custodian.access"


@dataclass(frozen=True)
class AccessExtensions:
    directory: DatasetDirectory  # the catalogue, as access sees it (access/ports.py)
    passport_verifier: PassportVerifier
    visa_signer: VisaSigner | None  # None: no visa signing key set, no visas issued
    notices: Notices


def keep(app: Flask, extensions: AccessExtensions) -> None:
    app.extensions[_KEY] = extensions


def _extensions() -> AccessExtensions:
    found: AccessExtensions = current_app.extensions[_KEY]
    return found


def dataset_directory() -> DatasetDirectory:
    return _extensions().directory


def passport_verifier() -> PassportVerifier:
    return _extensions().passport_verifier


def visa_signer() -> VisaSigner | None:
    return _extensions().visa_signer


def notices() -> Notices:
    return _extensions().notices


def request_collaborators() -> Collaborators:
    """What the request actions need besides the session and the actor."""
    found = _extensions()
    return Collaborators(directory=found.directory, notices=found.notices)
