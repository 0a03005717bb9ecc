"""Prometheus metrics of this process, as plain functions any layer may call.

The collectors live in a registry of this module, not prometheus_client's global one, and
are made once per process: several apps in one process (tests) share them, as they share
the process a scraper measures. Under several gunicorn workers prometheus_client's
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) adds the workers' values up at scrape time.
"""

from __future__ import annotations

import os
from typing import Literal

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

RefusalStage = Literal["issue", "download"]

_REGISTRY = CollectorRegistry()
_REQUESTS = Counter(
    "custodian_http_requests", "HTTP requests answered, by method, URL rule and status.",
    ["method", "endpoint", "status"], registry=_REGISTRY,
)
# Fine buckets at the low end: signed-URL issuance is meant to answer in a few milliseconds.
_LATENCY = Histogram(
    "custodian_http_request_duration_seconds", "Time to produce a response, by URL rule.",
    ["endpoint"], registry=_REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
_URLS_ISSUED = Counter(
    "custodian_signed_urls_issued", "Signed download URLs issued.", registry=_REGISTRY,
)
_URL_REFUSALS = Counter(
    "custodian_signed_url_refusals",
    "Signed URLs refused: at issue (no sign-in or no live grant) or at download (bad link).",
    ["stage"], registry=_REGISTRY,
)
_AUDIT_FAILURES = Counter(
    "custodian_audit_write_failures",
    "Audit events that could not be written or whose transaction could not be committed.",
    registry=_REGISTRY,
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


def exposition() -> tuple[bytes, str]:
    """The text a scraper reads, and its content type."""
    # prometheus_client switches to multiprocess values on this same variable at import.
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(_REGISTRY), CONTENT_TYPE_LATEST
