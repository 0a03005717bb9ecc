"""What a personal API token may do: chosen at creation, checked on every route it calls.

A session (a person at a browser) is not scoped; only tokens are, so a token copied onto a
compute node for downloads cannot also approve requests or read the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Scope(StrEnum):
    CATALOGUE = "catalogue"  # read studies, datasets, files and DRS object metadata
    DOWNLOAD = "download"  # signed URLs: /api/v1/files/{id}/url and DRS access
    REQUESTS = "requests"  # file and act on data-access requests
    AUDIT_READ = "audit-read"  # the auditors' API (still only for auditors and admins)
    ADMIN = "admin"  # committees, roles and agreements (still only for admins)
    TOKENS = "tokens"  # list, create and revoke the owner's own tokens


ALL_SCOPES: frozenset[str] = frozenset(Scope)
# In plain words, for the page where people choose.
SCOPE_MEANINGS: tuple[tuple[str, str], ...] = (
    (Scope.CATALOGUE, "browse datasets, files and DRS object metadata"),
    (Scope.DOWNLOAD, "get signed download URLs (API and DRS) for data you may access"),
    (Scope.REQUESTS, "file data-access requests and act on them"),
    (Scope.AUDIT_READ, "read the audit log (auditors and admins only)"),
    (Scope.ADMIN, "manage committees, roles and data-use agreements (admins only)"),
    (Scope.TOKENS, "list, create and revoke your API tokens (never wider or longer-lived "
                   "than this one)"),
)
# What a token gets when its creator names no scopes: browse and download, nothing more.
DEFAULT_SCOPES: frozenset[str] = frozenset({Scope.CATALOGUE, Scope.DOWNLOAD})
# Tokens made before scopes existed could do everything then; the migration (0007) keeps
# exactly that, which is not the admin scope added after it.
LEGACY_SCOPES = "audit-read catalogue download requests"


def encode_scopes(scopes: Iterable[str]) -> str:
    return " ".join(sorted(set(scopes)))


def decode_scopes(stored: str) -> frozenset[str]:
    return frozenset(stored.split())
