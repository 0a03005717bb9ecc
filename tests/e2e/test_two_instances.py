"""Two gunicorn instances on one PostgreSQL database serve the same users as one service.

Sessions work on both, nothing correct depends on one process's memory, and concurrent
appends from both keep the audit history one linear chain.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from app import create_app
from audit.integrity.chain_check import verify_chain
from core.migrations import upgrade
from datasets.demo.set_up import set_up_demo
from tests.agreements import accept_over_http
from tests.conftest import csrf_header, demo_settings, sign_in
from tests.ports import HeldPort
from tests.postgres import create_database

REPO = Path(__file__).resolve().parents[2]
STATEMENT = "We compare eQTL effect sizes across tissues in two cohorts."


@pytest.fixture
def two_instances(postgres_server: str, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(url A, url B, database url); A is the public URL users are sent back to."""
    held = [HeldPort(), HeldPort()]
    port_a, port_b = (port.number for port in held)
    database_url = create_database(postgres_server, f"two_{port_a}")
    settings = demo_settings(tmp_path, port_a, database_url)
    seeding = create_app(settings)
    upgrade(seeding.extensions["custodian.engine"])
    with seeding.extensions["custodian.session_factory"].begin() as session:
        set_up_demo(session, issuer=settings.dev_idp_issuer,
                    storage=seeding.extensions["custodian.storage"],
                    now=seeding.extensions["custodian.clock"].now())
    seeding.extensions["custodian.engine"].dispose()

    env = {**os.environ, "CUSTODIAN_ENV": "demo", "CUSTODIAN_INSTANCE_DIR": str(tmp_path),
           "CUSTODIAN_DATABASE_URL": database_url,
           "CUSTODIAN_PUBLIC_URL": settings.public_url}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    # Each gunicorn serves the socket held for it here (fd://), bound before anything ran.
    sockets = [port.listen() for port in held]
    processes = [
        subprocess.Popen([gunicorn, "--workers", "2", "--bind", f"fd://{sock.fileno()}",
                          "app:create_app()"], cwd=REPO, env=env, pass_fds=(sock.fileno(),),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for sock in sockets
    ]
    urls = [f"http://127.0.0.1:{port}" for port in (port_a, port_b)]
    try:
        for url in urls:
            wait_until_up(url)
        yield urls[0], urls[1], database_url
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
        for port in held:
            port.close()


def wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=2).ok:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not start")


def test_two_instances_serve_one_service(two_instances: tuple[str, str, str]) -> None:
    a, b, _ = two_instances
    researcher = sign_in(a, "researcher")  # the session cookie is now good on both
    assert researcher.get(f"{b}/api/v1/users/me", timeout=10).json()["subject"] == "researcher"

    dataset = next(d for d in requests.get(f"{b}/api/v1/datasets", timeout=10).json()["datasets"]
                   if d["tier"] == "controlled")
    filed = researcher.post(f"{b}/api/v1/requests", headers=csrf_header(researcher, b),
                            timeout=10, json={"title": "Across tissues",
                                              "research_use_statement": STATEMENT,
                                              "dataset_ids": [dataset["id"]]}).json()
    submitted = researcher.post(f"{a}/api/v1/requests/{filed['id']}/submit",
                                headers=csrf_header(researcher, a), timeout=10)
    assert submitted.json()["state"] == "submitted"
    official = sign_in(a, "signing-official")
    endorsed = official.post(f"{b}/api/v1/requests/{filed['id']}/endorse",
                             headers=csrf_header(official, b), timeout=10)
    assert endorsed.json()["state"] == "endorsed"
    chair = sign_in(a, "dac-chair")
    approved = chair.post(f"{b}/api/v1/requests/{filed['id']}/approve",
                          headers=csrf_header(chair, b), timeout=10,
                          json={"reason": "Fits GRU.", "days": 30})
    assert approved.json()["state"] == "approved"
    accept_over_http(researcher, b, dataset["id"], csrf_header(researcher, b))

    files = requests.get(f"{a}/api/v1/datasets/{dataset['id']}", timeout=10).json()["files"]
    url = researcher.get(f"{b}/api/v1/files/{files[0]['id']}/url", timeout=10).json()["url"]
    for host in (a, b):  # either instance verifies and serves what the other signed
        body = requests.get(url.replace(a, host), timeout=10).content
        assert hashlib.sha256(body).hexdigest() == files[0]["sha256"]


def test_concurrent_appends_from_both_instances_form_one_chain(
    two_instances: tuple[str, str, str], tmp_path: Path,
) -> None:
    a, b, database_url = two_instances
    datasets = requests.get(f"{a}/api/v1/datasets", timeout=10).json()["datasets"]
    open_set = next(d for d in datasets if d["tier"] == "open")
    file_id = requests.get(f"{a}/api/v1/datasets/{open_set['id']}",
                           timeout=10).json()["files"][0]["id"]

    def issue(i: int) -> int:
        host = a if i % 2 else b
        return requests.get(f"{host}/api/v1/files/{file_id}/url", timeout=30).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(issue, range(200)))
    assert statuses == [200] * 200

    checker = create_app(demo_settings(tmp_path, 5999, database_url))
    with checker.extensions["custodian.session_factory"]() as session:
        report = verify_chain(session)
    checker.extensions["custodian.engine"].dispose()
    assert report.ok, report.problem
    assert report.events_checked >= 200
