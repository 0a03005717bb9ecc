"""Domain errors of the catalogue."""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import InvalidInput
from datasets.manifest import ManifestProblem


class ManifestRejected(InvalidInput):
    """A manifest with any bad line registers nothing; the problems name every bad line."""

    def __init__(self, problems: Sequence[ManifestProblem]) -> None:
        self.problems = sorted(problems)
        super().__init__(
            f"The manifest has {len(self.problems)} problem(s); nothing was registered.",
            details={"problems": [{"line": p.line, "message": p.message}
                                  for p in self.problems]},
        )
