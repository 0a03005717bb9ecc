"""Prometheus metrics of this process, as plain functions any layer may call.

The collectors live in a registry of this module, not prometheus_client's global one, and
are made once per process: several apps in one process (tests) share them, as they share
the process a scraper measures. Under several gunicorn workers prometheus_client's
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) adds the workers' values up at scrape time.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Literal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

RefusalStage = Literal["issue", "download"]

_REGISTRY = CollectorRegistry()
_REQUESTS = Counter(
    "custodian_http_requests",
    "HTTP requests answered, by method, URL rule and status.",
    ["method", "endpoint", "status"],
    registry=_REGISTRY,
)
# Fine buckets at the low end: signed-URL issuance is meant to answer in a few milliseconds.
_LATENCY = Histogram(
    "custodian_http_request_duration_seconds",
    "Time to produce a response, by URL rule.",
    ["endpoint"],
    registry=_REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
_URLS_ISSUED = Counter(
    "custodian_signed_urls_issued",
    "Signed download URLs issued.",
    registry=_REGISTRY,
)
_URL_REFUSALS = Counter(
    "custodian_signed_url_refusals",
    "Signed URLs refused: at issue (no sign-in or no live grant) or at download (bad link).",
    ["stage"],
    registry=_REGISTRY,
)
_AUDIT_FAILURES = Counter(
    "custodian_audit_write_failures",
    "Audit events that could not be written or whose transaction could not be committed.",
    registry=_REGISTRY,
)

# From an action's time to its event's integration into the chain (audit/log/sequencer.py).
_AUDIT_LAG = Histogram(
    "custodian_audit_sequencer_lag_seconds",
    "Time from an audited action to its event being chained, per event.",
    registry=_REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
# Last seen by this process (the sequencer's loop, /readyz, flask audit verify); the
# largest across workers is what matters.
_AUDIT_UNCHAINED = Gauge(
    "custodian_audit_unchained_events",
    "Audit events recorded but not yet chained.",
    registry=_REGISTRY,
    multiprocess_mode="livemax",
)
_AUDIT_OLDEST = Gauge(
    "custodian_audit_oldest_unchained_seconds",
    "Age of the oldest audit event not yet chained (0 when none).",
    registry=_REGISTRY,
    multiprocess_mode="livemax",
)


def observe_request(method: str, endpoint: str, status: int, seconds: float) -> None:
    _REQUESTS.labels(method, endpoint, str(status)).inc()
    _LATENCY.labels(endpoint).observe(seconds)


def count_signed_url_issued() -> None:
    _URLS_ISSUED.inc()


def count_signed_url_refused(stage: RefusalStage) -> None:
    _URL_REFUSALS.labels(stage).inc()


def count_audit_write_failure() -> None:
    _AUDIT_FAILURES.inc()


def observe_audit_lags(lags: Iterable[float]) -> None:
    for seconds in lags:
        _AUDIT_LAG.observe(max(0.0, seconds))


def observe_audit_backlog(unchained: int, oldest_seconds: float) -> None:
    _AUDIT_UNCHAINED.set(unchained)
    _AUDIT_OLDEST.set(oldest_seconds)


def exposition() -> tuple[bytes, str]:
    """The text a scraper reads, and its content type."""
    # prometheus_client switches to multiprocess values on this same variable at import.
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(_REGISTRY), CONTENT_TYPE_LATEST
