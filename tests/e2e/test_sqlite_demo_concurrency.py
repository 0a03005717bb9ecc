"""The demo as `make demo` serves it, SQLite under gunicorn with 2 workers x 4 threads, takes
concurrent audited requests without stalling, and chains every event they record.

Each client thread files and submits requests (the submission queues an email in a
SAVEPOINT, where the first after-commit sequencer waited on its own request's SQLite lock),
is refused a URL (a refusal is recorded in a transaction of its own) and creates a token.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from audit.integrity.chain_check import verify_chain
from audit.log.models import AuditEvent, AuditQueueEntry
from tests.e2e.test_whole_flow import STATEMENT, controlled_dataset_and_file
from tests.gunicorn_service import Service, gunicorn_demo

CLIENTS = 8  # as many as the demo's 2 workers x 4 threads serve at once
ROUNDS = 6
REQUEST_TIMEOUT = 10  # seconds: a wait for SQLite's 30 s busy timeout fails the request
WHOLE_RUN_BOUND = 60  # seconds for 8 x 6 x 4 requests; about 2 s here when nothing stalls


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with gunicorn_demo(
        None,
        tmp_path_factory.mktemp("sqlite-demo"),
        workers=2,
        env={"CUSTODIAN_RATE_LIMITS": "false"},
        options=("--threads", "4"),
    ) as running:
        yield running


def audited_work(
    base: str, researcher: dict[str, str], outsider: dict[str, str], dataset_id: int, file_id: int
) -> list[tuple[str, int]]:
    """One client's rounds: (what, status) for each request."""
    answers = []
    for _ in range(ROUNDS):
        filed = requests.post(f"{base}/api/v1/requests", headers=researcher,
                              timeout=REQUEST_TIMEOUT,
                              json={"title": "Ageing eQTLs", "research_use_statement": STATEMENT,
                                    "dataset_ids": [dataset_id]})
        answers.append(("request:create", filed.status_code))
        submitted = requests.post(f"{base}/api/v1/requests/{filed.json()['id']}/submit",
                                  headers=researcher, timeout=REQUEST_TIMEOUT)
        answers.append(("request:submit", submitted.status_code))
        refused = requests.get(f"{base}/api/v1/files/{file_id}/url", headers=outsider,
                               timeout=REQUEST_TIMEOUT)
        answers.append(("url:refuse", refused.status_code))
        token = requests.post(f"{base}/api/v1/tokens", headers=outsider, timeout=REQUEST_TIMEOUT,
                              json={"name": "script", "days": 1})
        answers.append(("token:create", token.status_code))
    return answers


def test_concurrent_audited_requests_all_answer_promptly_and_every_event_is_chained(
    service: Service,
) -> None:
    assert service.settings.database_url.startswith("sqlite:///")
    base = service.url
    researcher, outsider = service.token("researcher"), service.token("researcher2")
    dataset_id, genotype = controlled_dataset_and_file(base)
    with service.app() as app, app.extensions["custodian.session_factory"]() as session:
        before = session.scalar(select(func.max(AuditEvent.seq))) or 0

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        runs = [pool.submit(audited_work, base, researcher, outsider, dataset_id,
                            int(str(genotype["id"]))) for _ in range(CLIENTS)]
        answers = [answer for run in runs for answer in run.result()]
    elapsed = time.monotonic() - started

    expected = {"request:create": 201, "request:submit": 200, "url:refuse": 403,
                "token:create": 201}
    assert [(what, status) for what, status in answers if status != expected[what]] == []
    assert elapsed < WHOLE_RUN_BOUND, f"{len(answers)} requests took {elapsed:.1f} s"

    with service.app() as app, app.extensions["custodian.session_factory"]() as session:
        assert session.scalar(select(func.count()).select_from(AuditQueueEntry)) == 0
        recorded = Counter(session.scalars(select(AuditEvent.action).where(
            AuditEvent.seq > before, AuditEvent.action.in_(expected))).all())
        report = verify_chain(session)
    assert recorded == Counter(what for what, _ in answers)
    assert report.ok, report.problem
    assert "database is locked" not in Path(service.log).read_text()
