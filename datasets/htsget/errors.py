"""The htsget spec's own 400s, told apart from InvalidInput by their codes."""

from __future__ import annotations

from core.errors import DomainError, InvalidInput


class UnsupportedFormat(InvalidInput):
    code = "unsupported_format"


class InvalidRange(InvalidInput):
    code = "invalid_range"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class SliceUnavailable(DomainError):
    """The stored file or index cannot be read now (or no longer matches the catalogue)."""

    status = 503
    code = "storage_unavailable"
