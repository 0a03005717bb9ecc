"""The shipped deploy/gunicorn.conf.py, running: its workers, its access log, its
Prometheus multiprocess hooks (the suite's other gunicorn tests serve with it too)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.gunicorn_service import Service, gunicorn_demo

REQUESTS = 12


@pytest.fixture(scope="module")
def served(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Service, Path]]:
    root = tmp_path_factory.mktemp("deploy-gunicorn")
    metrics = root / "prometheus"
    metrics.mkdir()
    (metrics / "counter_99999.db").write_bytes(b"left by a process before the restart")
    with gunicorn_demo(
        postgres_server,
        root,
        workers=2,
        env={
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
            "CUSTODIAN_METRICS": "on",
            "CUSTODIAN_METRICS_PUBLIC": "true",
        },
    ) as service:
        yield service, metrics


def worker_pids(service: Service) -> set[int]:
    children = Path(f"/proc/{service.process.pid}/task/{service.process.pid}/children")
    return {int(pid) for pid in children.read_text().split()}


def catalogue_requests(service: Service) -> float:
    text = requests.get(f"{service.url}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "custodian_http_requests_total"
        and sample.labels.get("endpoint") == "/api/v1/datasets"
    )


def test_the_config_starts_the_workers_asked_for_and_empties_the_metrics_folder(
    served: tuple[Service, Path],
) -> None:
    service, metrics = served
    assert len(worker_pids(service)) == 2
    assert not (metrics / "counter_99999.db").exists()


def test_every_worker_counts_into_one_scrape(served: tuple[Service, Path]) -> None:
    service, metrics = served
    before = catalogue_requests(service)
    for _ in range(REQUESTS):
        # A new connection each time, so that both workers answer some.
        assert (
            requests.get(
                f"{service.url}/api/v1/datasets", timeout=10, headers={"Connection": "close"}
            ).status_code
            == 200
        )
    assert catalogue_requests(service) - before == REQUESTS
    # The counts live in the workers' own files (none left from before the start); the
    # scrape above, answered by one worker, summed them all.
    counted = {path.name for path in metrics.glob("counter_*.db")}
    assert counted and counted <= {f"counter_{pid}.db" for pid in worker_pids(service)}


def test_access_log_lines_carry_the_path_and_request_id_but_never_the_query(
    served: tuple[Service, Path],
) -> None:
    service, _ = served
    answer = requests.get(
        f"{service.url}/api/v1/datasets?signature=s3cr3t-in-the-query", timeout=10
    )
    request_id = answer.headers["X-Request-ID"]
    # gunicorn writes the line once the answer is sent: it may land a moment after.
    deadline = time.monotonic() + 10
    while True:
        log = service.log.read_text()
        lines = [line for line in log.splitlines() if f"request_id={request_id}" in line]
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert "s3cr3t-in-the-query" not in log
    assert lines, log[-2000:]
    line = lines[0]
    assert re.search(r'"GET /api/v1/datasets HTTP/1\.1" 200 \d+ \d+ms', line), line
