"""Domain errors of the catalogue."""

from __future__ import annotations

from collections.abc import Sequence

from audit.log.actions import AuditAction
from core.errors import DomainError, InvalidInput, RefusalNote
from datasets.catalogue.manifest import ManifestProblem
from datasets.results.formats import RowProblem
from datasets.storage.health import INTERVAL


class ManifestRejected(InvalidInput):
    """A manifest with any bad line registers nothing; the problems name every bad line."""

    def __init__(self, problems: Sequence[ManifestProblem]) -> None:
        self.problems = sorted(problems)
        super().__init__(
            f"The manifest has {len(self.problems)} problem(s); nothing was registered.",
            details={"problems": [{"line": p.line, "message": p.message} for p in self.problems]},
        )


class ResultsRejected(InvalidInput):
    """A results file with any bad line loads nothing; the report names the first bad lines."""

    def __init__(self, name: str, problems: Sequence[RowProblem], total: int) -> None:
        self.problems = sorted(problems)
        self.total = total
        super().__init__(
            f"{name} has {total} problem(s); nothing was loaded.",
            details={"problems": [{"line": p.line, "message": p.message} for p in self.problems]},
        )


class BulkTooLarge(DomainError):
    """A GA4GH DRS bulk request longer than service-info's maxBulkRequestLength."""

    status = 413
    code = "bulk_request_too_large"

    def __init__(self, length: int, maximum: int) -> None:
        super().__init__(
            f"The bulk request names {length} items; this server takes at most {maximum}.",
            details={"length": length, "max_bulk_request_length": maximum},
        )


class StorageDown(DomainError):
    """The store failed its last health check: no URL is handed out that would not work."""

    status = 503
    code = "storage_unavailable"
    retry_after = int(INTERVAL)  # by then this process checks the store again


class FileRetired(DomainError):
    """An admin retired the file: it is still in the catalogue, but nothing is issued for it."""

    status = 410
    code = "file_retired"

    def __init__(self, file_id: int, dataset_id: int) -> None:
        super().__init__(
            f"File {file_id} has been retired; it is no longer available.",
            details={"file_id": file_id},
            refusal=RefusalNote(
                AuditAction.URL_REFUSE,
                "file",
                str(file_id),
                {"dataset_id": dataset_id, "reason": "retired"},
            ),
        )
