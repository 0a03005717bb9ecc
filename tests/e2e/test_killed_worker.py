"""A gunicorn worker killed with SIGKILL in the middle of a request leaves nothing half
written: filing, approving and issuing a URL, each caught inside its transaction (held at its
audit write, the insert into the audit queue, by a table lock the test takes), then the
worker is killed. Afterwards the database holds exactly what it held before, the audit chain
verifies, and the master's next worker serves the same request to the end. Real gunicorn,
real PostgreSQL."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine, create_engine, func, select, text

from access.models import Grant
from access.requests.models import AccessRequest
from audit.integrity.chain_check import verify_chain
from audit.log.models import AuditEvent
from tests.agreements import accept_with_client
from tests.gunicorn_service import Service, gunicorn_demo

STATEMENT = "We study tissue-specific regulation of gene expression in ageing adults."


@pytest.fixture(scope="module")
def service(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with gunicorn_demo(
        postgres_server,
        tmp_path_factory.mktemp("killed"),
        workers=1,
        env={"CUSTODIAN_RATE_LIMITS": "false"},
        options=("--timeout", "120"),
    ) as running:
        yield running


@pytest.fixture(scope="module")
def admin_engine(service: Service) -> Iterator[Engine]:
    """The database as its owner sees it, to hold locks and count rows."""
    engine = create_engine(service.settings.database_url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def worker_pids(service: Service) -> list[int]:
    master = service.process.pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def counts(engine: Engine) -> tuple[int, ...]:
    with engine.connect() as connection:
        return tuple(
            connection.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (AccessRequest, Grant, AuditEvent)
        )


def states(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(text("SELECT id, state FROM access_requests ORDER BY id"))
        ]


def kill_mid_request(service: Service, engine: Engine, send: Callable[[], object]) -> None:
    """Hold every audit write, start the request, wait until its transaction waits at its
    audit write, SIGKILL the worker, let go; then wait for the master's next worker."""
    (worker,) = worker_pids(service)
    locking = create_engine(engine.url)  # not AUTOCOMMIT: a lock lives in a transaction
    with locking.connect() as holder:
        transaction = holder.begin()
        holder.execute(text("LOCK TABLE audit_queue IN EXCLUSIVE MODE"))
        outcome: list[object] = []
        thread = threading.Thread(target=_swallow, args=(send, outcome), daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not _someone_waits_for_a_lock(engine):
            assert time.monotonic() < deadline, "the request never reached its audit write"
            time.sleep(0.05)
        os.kill(worker, signal.SIGKILL)
        thread.join(timeout=30)
        transaction.rollback()
    assert outcome and isinstance(outcome[0], requests.RequestException), outcome  # no answer
    locking.dispose()
    deadline = time.monotonic() + 60
    while True:
        pids = worker_pids(service)
        if pids and pids != [worker]:
            try:
                if requests.get(f"{service.url}/healthz", timeout=5).ok:
                    break
            except requests.RequestException:
                pass
        assert time.monotonic() < deadline, "no new worker"
        time.sleep(0.2)
    # The killed worker's PostgreSQL session ends with its socket; its transaction with it.
    deadline = time.monotonic() + 30
    while _someone_waits_for_a_lock(engine) or _open_transactions(engine):
        assert time.monotonic() < deadline, "the killed worker's transaction stayed open"
        time.sleep(0.1)


def _swallow(send: Callable[[], object], outcome: list[object]) -> None:
    try:
        outcome.append(send())
    except requests.RequestException as exc:  # the connection dies with the worker
        outcome.append(exc)


def _someone_waits_for_a_lock(engine: Engine) -> bool:
    with engine.connect() as connection:
        waiting = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            )
        ).scalar_one()
    return bool(waiting)


def _open_transactions(engine: Engine) -> bool:
    with engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' "
                "AND datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    return bool(found)


def assert_chain_verifies(service: Service) -> None:
    """The chain in process, and ``flask audit verify`` as an operator runs it."""
    with service.app() as app:
        with app.extensions["custodian.session_factory"]() as session:
            report = verify_chain(session)
        assert report.ok, report.problem
        verified = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert verified.exit_code == 0, verified.output


def post(
    service: Service, path: str, persona: str, body: dict[str, object] | None = None
) -> requests.Response:
    return requests.post(
        f"{service.url}{path}", headers=service.token(persona), json=body or {}, timeout=30
    )


def controlled_dataset(service: Service) -> int:
    datasets = requests.get(
        f"{service.url}/api/v1/datasets", headers=service.token("researcher"), timeout=10
    ).json()["datasets"]
    return int(next(d["id"] for d in datasets if d["tier"] == "controlled"))


def endorsed_request(service: Service) -> int:
    dataset_id = controlled_dataset(service)
    filed = post(
        service,
        "/api/v1/requests",
        "researcher",
        {"title": "Ageing eQTLs", "research_use_statement": STATEMENT, "dataset_ids": [dataset_id]},
    )
    assert filed.status_code == 201, filed.text
    request_id = int(filed.json()["id"])
    assert post(service, f"/api/v1/requests/{request_id}/submit", "researcher").ok
    assert post(service, f"/api/v1/requests/{request_id}/endorse", "signing-official").ok
    return request_id


def test_a_worker_killed_while_filing_leaves_no_request(
    service: Service, admin_engine: Engine
) -> None:
    researcher = service.token("researcher")  # tokens first: making one is audited too
    body = {
        "title": "Ageing eQTLs",
        "research_use_statement": STATEMENT,
        "dataset_ids": [controlled_dataset(service)],
    }
    url = f"{service.url}/api/v1/requests"

    def file_one() -> requests.Response:
        return requests.post(url, headers=researcher, json=body, timeout=30)

    before = counts(admin_engine)
    kill_mid_request(service, admin_engine, file_one)
    assert counts(admin_engine) == before
    assert_chain_verifies(service)
    assert file_one().status_code == 201  # the next worker files it to the end


def test_a_worker_killed_while_approving_leaves_no_grant(
    service: Service, admin_engine: Engine
) -> None:
    request_id = endorsed_request(service)
    chair = service.token("dac-chair")
    url = f"{service.url}/api/v1/requests/{request_id}/approve"

    def approve() -> requests.Response:
        return requests.post(
            url,
            headers=chair,
            timeout=30,
            json={"reason": "Consistent with GRU consent.", "days": 30},
        )

    before, before_states = counts(admin_engine), states(admin_engine)
    kill_mid_request(service, admin_engine, approve)
    assert counts(admin_engine) == before and states(admin_engine) == before_states
    assert_chain_verifies(service)
    approved = approve()
    assert approved.status_code == 200, approved.text
    assert counts(admin_engine)[1] > before[1]  # now the grant exists


def test_a_worker_killed_while_issuing_a_url_leaves_no_event(
    service: Service, admin_engine: Engine
) -> None:
    request_id = endorsed_request(service)
    approved = post(
        service,
        f"/api/v1/requests/{request_id}/approve",
        "dac-chair",
        {"reason": "Consistent with GRU consent.", "days": 30},
    )
    assert approved.status_code == 200, approved.text
    dataset_id = controlled_dataset(service)
    researcher = service.token("researcher")
    with service.app() as app:
        accept_with_client(app.test_client(), dataset_id, researcher)
    files = requests.get(
        f"{service.url}/api/v1/datasets/{dataset_id}", headers=researcher, timeout=10
    ).json()["files"]
    url_of = f"{service.url}/api/v1/files/{files[0]['id']}/url"
    before = counts(admin_engine)
    kill_mid_request(
        service, admin_engine, lambda: requests.get(url_of, headers=researcher, timeout=30)
    )
    assert counts(admin_engine) == before
    assert_chain_verifies(service)
    issued = requests.get(url_of, headers=researcher, timeout=30)
    assert issued.status_code == 200, issued.text
    assert requests.get(issued.json()["url"], timeout=30).status_code == 200
