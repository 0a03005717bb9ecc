"""What the audit package's routes and commands take from the app: its checkpoint signer,
its sequencer, who is reading and what the pages call things. Set once by audit.install;
the only place that reads them back."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

from audit.integrity.checkpoints import CheckpointSigner
from audit.log.sequencing import Sequencer
from audit.readers import AuditReader
from audit.review.names import AuditDirectory
from core.errors import DomainError

_SIGNER = "custodian.audit_checkpoint_signer"
_SEQUENCER = "custodian.audit_sequencer"
_READER = "custodian.audit_reader"
_DIRECTORY = "custodian.audit_directory"


def keep(
    app: Flask, *, signer: CheckpointSigner, sequencer: Sequencer, reader: Callable[[], AuditReader]
) -> None:
    app.extensions[_SIGNER] = signer
    app.extensions[_SEQUENCER] = sequencer
    app.extensions[_READER] = reader


def checkpoint_signer() -> CheckpointSigner:
    signer: CheckpointSigner = current_app.extensions[_SIGNER]
    return signer


def sequencer() -> Sequencer:
    found: Sequencer = current_app.extensions[_SEQUENCER]
    return found


def current_reader() -> AuditReader:
    """The reader of this request, or NotAuthenticated / a recorded Forbidden."""
    reader: Callable[[], AuditReader] = current_app.extensions[_READER]
    return reader()


def may_read_audit() -> bool:
    """For the navigation: whether to show the Audit link (nothing is recorded)."""
    try:
        current_reader()
    except DomainError:
        return False
    return True


def keep_directory(app: Flask, directory: AuditDirectory) -> None:
    app.extensions[_DIRECTORY] = directory


def audit_directory() -> AuditDirectory:
    """What the pages call people, datasets and files (audit/review/names.py)."""
    found: AuditDirectory = current_app.extensions[_DIRECTORY]
    return found
