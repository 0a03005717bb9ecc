"""Brokers' public keys, fetched from their jku URLs with a short timeout and a small cache.

Only URLs the caller has already found on the allow-list reach ``keys_at``: the fetch itself
is a request to a URL an outsider wrote into a token, so it must never happen for any other.
One cache per process; several app instances each fetch on their own, which brokers expect.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import requests as http
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

FETCH_TIMEOUT_SECONDS = 3.0
CACHE_SECONDS = 300.0
# A kid we have not seen may be a broker's fresh key: fetch again, but not more often.
REFETCH_AFTER_SECONDS = 30.0
MAX_CACHED = 32
MAX_JWKS_BYTES = 256 * 1024


class KeysUnavailable(Exception):
    """The jku did not answer with a usable key set; the message is safe to show."""


class JwksFetcher:
    """A thread-safe, size-bounded TTL cache of key sets by URL."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[float, KeySet]] = OrderedDict()

    def keys_at(self, jku: str, kid: str | None) -> KeySet:
        """The key set at jku; fetched again when stale, or when it lacks kid and is not new."""
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(jku)
        if cached is not None:
            fetched_at, keys = cached
            age = now - fetched_at
            if age < CACHE_SECONDS and (_has_kid(keys, kid) or age < REFETCH_AFTER_SECONDS):
                return keys
        keys = _fetch(jku)
        with self._lock:
            self._cache[jku] = (now, keys)
            self._cache.move_to_end(jku)
            while len(self._cache) > MAX_CACHED:
                self._cache.popitem(last=False)
        return keys


def _has_kid(keys: KeySet, kid: str | None) -> bool:
    return kid is None or any(key.kid == kid for key in keys.keys)


def _fetch(jku: str) -> KeySet:
    try:
        response = http.get(jku, timeout=FETCH_TIMEOUT_SECONDS, allow_redirects=False,
                            headers={"Accept": "application/json"})
    except http.RequestException as exc:
        raise KeysUnavailable(f"the key set at {jku} could not be fetched "
                              f"({type(exc).__name__})") from None
    if response.status_code != 200 or len(response.content) > MAX_JWKS_BYTES:
        raise KeysUnavailable(f"the key set at {jku} answered {response.status_code}")
    try:
        document: Any = response.json()
        return KeySet.import_key_set(document)
    except (ValueError, TypeError, KeyError, JoseError):
        raise KeysUnavailable(f"the key set at {jku} is not a JWKS") from None
