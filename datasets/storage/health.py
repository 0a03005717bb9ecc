"""Whether the store answers, as last checked: the rule that keeps dead URLs from leaving.

A presigned S3 URL is made without asking the store, so an app whose store is down would
still hand out URLs that then fail in the user's hands. Instead each process remembers the
outcome of its last check (S3: HeadBucket; local disk: the root is a readable folder) and
trusts it for ``INTERVAL`` seconds. URL issuance asks ``is_up()``: a stale outcome is checked
again first, by that one request; every ``/readyz`` probe checks afresh and so keeps it
fresh for the requests. While the last check failed, issuance refuses with 503 (README,
"Outages").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from datasets.storage.base import StorageUnavailable

INTERVAL = 10.0  # seconds an outcome is trusted; also the Retry-After of the refusal


class StoreHealth:
    def __init__(
        self,
        check: Callable[[], None],
        *,
        interval: float = INTERVAL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check = check
        self._interval = interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._up = False

    def check(self) -> None:
        """Check now and remember the outcome; raise StorageUnavailable if the store is down."""
        with self._lock:
            self._check_locked()

    def is_up(self) -> bool:
        """The remembered outcome, checked again first when older than the interval.

        Threads that find it stale wait for the one that checks, rather than each asking a
        store that may take seconds to fail."""
        if self._stale():
            with self._lock:
                if self._stale():
                    try:
                        self._check_locked()
                    except StorageUnavailable:
                        return False
        return self._up

    def _stale(self) -> bool:
        return self._checked_at is None or self._monotonic() - self._checked_at >= self._interval

    def _check_locked(self) -> None:
        try:
            self._check()
        except StorageUnavailable:
            self._up, self._checked_at = False, self._monotonic()
            raise
        self._up, self._checked_at = True, self._monotonic()
