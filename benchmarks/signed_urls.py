"""Signed-URL issuance under load: wrk against gunicorn on durable PostgreSQL, in rounds that
alternate with a hello-world Flask app served by the same gunicorn settings, in one run.

For each storage backend (the embedded local disk, then S3 presigning against s3rver) the
demo is served by the shipped deploy/gunicorn.conf.py with 2 sync workers (``--threads 1``),
as is benchmarks/hello.py. A researcher's grant comes through the workflow's own API
(benchmarks/soak.py); 999 more controlled files are added to the dataset for the DRS bulk
request. Then, per round, each of hello and ``GET /api/v1/files/{id}/url`` (Bearer token) at
8 and 16 connections and at 1 connection (p50, p99), and on the local backend the floor
(benchmarks/issuance_floor.py: only the essential work of an issuance, on the service's
database), the order rotated every round; DRS bulk access for 1,000 objects in one request;
afterwards the service's ``url:issue`` events the run added against the 2xx answers
gunicorn's access log shows, and the sequencer's lag (an event's ``chained_at`` minus its
``occurred_at``: from the action's clock reading, a little before its commit, to its
chaining). Last, on the local backend, the memory check of issue 15 point 6:
each worker's resident memory after 1,000 URL issuances and after 100,000.

Run: ``.venv/bin/python -m benchmarks.signed_urls`` (about 15 minutes; ``--seconds 5 --rounds 1
--memory 10000`` for a quick look). Exit status 1 when errors, counts or the targets fail.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from flask import Flask
from sqlalchemy import func, or_, select
from sqlalchemy.engine import make_url

from audit.log.models import AuditEvent, AuditQueueEntry
from benchmarks.issuance_floor import FLOOR_REQUEST_ID
from benchmarks.soak import Soak, first_approval
from datasets.catalogue.models import DataFile
from tests.gunicorn_service import GUNICORN_CONFIG, REPO, Service, gunicorn_demo
from tests.ports import HeldPort
from tests.postgres import throwaway_cluster
from tests.s3rver import ACCESS_KEY, SECRET_ACCESS_KEY, running_s3rver


@dataclass(frozen=True)
class Serving:
    """How gunicorn serves both the app and hello-world in a run."""

    name: str
    workers: int
    options: tuple[str, ...]


# 2 sync workers, as the issue measured; and the shipped deploy/gunicorn.conf.py's own
# defaults on this machine (2 workers per core, 4 threads each), with --as-shipped.
AS_MEASURED = Serving("2 sync workers (--workers 2 --threads 1)", 2, ("--threads", "1"))
_SHIPPED_WORKERS = 2 * (os.cpu_count() or 1)  # deploy/gunicorn.conf.py's WEB_CONCURRENCY default
AS_SHIPPED = Serving(f"as shipped ({_SHIPPED_WORKERS} workers x 4 threads)", _SHIPPED_WORKERS, ())


def sync_workers(workers: int) -> Serving:
    return Serving(f"{workers} sync workers (--workers {workers} --threads 1)", workers,
                   ("--threads", "1"))


BULK = 1000
BULK_TIMES = 5
TARGET_RATIO, TARGET_P50_MS, TARGET_BULK_S, TARGET_LAG_S, TARGET_RSS = 0.30, 3.0, 1.0, 1.0, 0.10


@dataclass(frozen=True)
class Wrk:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int


def wrk(url: str, connections: int, seconds: int, header: str | None = None) -> Wrk:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if header:
        args += ["-H", header]
    out = subprocess.run(  # noqa: S603 - wrk, with our own arguments
        [*args, url], check=True, capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    return Wrk(rate, _percentile(out, "50%"), _percentile(out, "99%"),
               int(non_2xx.group(1)) if non_2xx else 0,
               sum(int(n) for n in errors.groups()) if errors else 0)


def _percentile(out: str, label: str) -> float:
    value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out,  # type: ignore[union-attr]
                            re.MULTILINE).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


@contextmanager
def yardstick_service(scratch: Path, serving: Serving, app: str, probe: str,
                      env: dict[str, str] | None = None) -> Iterator[str]:
    """A yardstick app (``module:create_app()``) served by gunicorn with the run's settings;
    yields its base URL once ``probe`` answers without a server error (the floor's probe is
    a 401)."""
    held = HeldPort()
    sock = held.listen()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    name = app.split(":")[0].rsplit(".", 1)[-1]
    with (scratch / f"{name}.log").open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - gunicorn, our own arguments
            [gunicorn, "--config", str(GUNICORN_CONFIG), "--workers", str(serving.workers),
             *serving.options, "--bind", f"fd://{sock.fileno()}", app],
            cwd=REPO, stdout=log, stderr=log, pass_fds=(sock.fileno(),),
            env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{held.url}{probe}", timeout=2).status_code < 500:
                    break
                raise AssertionError(f"{app} answers its probe with a server error")
            except requests.RequestException:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        yield held.url
    finally:
        process.terminate()
        process.wait(timeout=30)
        held.close()


@contextmanager
def hello_service(scratch: Path, serving: Serving) -> Iterator[str]:
    with yardstick_service(scratch, serving, "benchmarks.hello:create_app()", "/hello") as base:
        yield f"{base}/hello"


@contextmanager
def floor_service(scratch: Path, serving: Serving, service: Service) -> Iterator[str]:
    """benchmarks/issuance_floor.py on the service's own database; yields its base URL."""
    database = make_url(service.settings.database_url).set(drivername="postgresql")
    with yardstick_service(
            scratch, serving, "benchmarks.issuance_floor:create_app()", "/api/v1/files/0/url",
            {"FLOOR_DATABASE_URL": database.render_as_string(hide_password=False)}) as base:
        yield base


def add_bulk_files(service: Service, dataset_id: int, template_id: int) -> list[int]:
    """BULK controlled files in the researcher's dataset (the template's first, then copies)."""
    with service.app() as app, app.extensions["custodian.session_factory"].begin() as session:
        template = session.get_one(DataFile, template_id)
        copies = [DataFile(dataset_id=dataset_id, name=f"bulk-{n}.vcf.gz", kind=template.kind,
                           tier=template.tier, description="", storage_key=f"bulk/{n}",
                           size=template.size, md5=template.md5, sha256=template.sha256,
                           created_at=template.created_at) for n in range(BULK - 1)]
        session.add_all(copies)
        session.flush()
        return [template_id, *(copy.id for copy in copies)]


# The service's own url:issue events, not the floor's (benchmarks/issuance_floor.py).
_SERVICE_URL_EVENT = (AuditEvent.action == "url:issue") & or_(
    AuditEvent.request_id.is_(None), AuditEvent.request_id.not_like(f"{FLOOR_REQUEST_ID}%"))


def url_events(service: Service) -> int:
    with service.app() as app, app.extensions["custodian.session_factory"]() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(_SERVICE_URL_EVENT)) or 0


def drained(checker: Flask, timeout: float = 120) -> None:
    """Wait until the sequencer has chained every queued event; ``checker`` is an app on
    the service's database (Service.app), held by the caller across its checks."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with checker.extensions["custodian.session_factory"]() as session:
            if not session.scalar(select(func.count()).select_from(AuditQueueEntry)):
                return
        time.sleep(0.2)
    raise AssertionError("the sequencer left events queued")


def lag_seconds(service: Service, since: datetime) -> list[float]:
    with service.app() as app, app.extensions["custodian.session_factory"]() as session:
        rows = session.execute(
            select(AuditEvent.occurred_at, AuditEvent.chained_at)
            .where(_SERVICE_URL_EVENT, AuditEvent.occurred_at >= since)).all()
    return sorted((chained - occurred).total_seconds() for occurred, chained in rows if chained)


def served_2xx(service: Service, path: str) -> int:
    """2xx answers to ``path`` in gunicorn's access log: what the server answered, including
    answers to requests wrk abandoned when its time was up."""
    pattern = re.compile(rf'"(GET|POST) {re.escape(path)} HTTP/1.1" 2\d\d ')
    return sum(1 for line in service.log.read_text(errors="replace").splitlines()
               if pattern.search(line))


def worker_rss_kib(service: Service) -> list[int]:
    master = service.process.pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]))
    return sizes


def bulk_access(service: Service, header: dict[str, str], file_ids: list[int],
                times: int) -> tuple[list[float], list[str]]:
    """Each request's time, and what went wrong with those that failed (gunicorn's worker
    timeout of 60 s ends a request that takes longer)."""
    body = {"bulk_object_access_ids": [
        {"bulk_object_id": str(file_id), "bulk_access_ids": ["signed-url"]}
        for file_id in file_ids]}
    took, failures = [], []
    with requests.Session() as session:
        for _ in range(times):
            started = time.perf_counter()
            try:
                answer = session.post(f"{service.url}/ga4gh/drs/v1/objects/access",
                                      json=body, headers=header, timeout=90)
            except requests.RequestException as exc:
                failures.append(f"{type(exc).__name__} after "
                                f"{time.perf_counter() - started:.0f} s")
                continue
            took.append(time.perf_counter() - started)
            resolved = answer.json()["summary"]["resolved"] if answer.ok else 0
            if resolved != len(file_ids):
                failures.append(f"{answer.status_code}, {resolved} of {len(file_ids)} resolved")
    return took, failures


def measure(name: str, service: Service, hello: str, seconds: int, rounds: int,
            memory: int | None, floor: str | None = None) -> bool:
    """The service's URL issuance against hello-world, and, given ``floor`` (the base URL of
    benchmarks/issuance_floor.py on this service's database), against the least an audited
    issuance costs, in the same rounds."""
    with requests.Session() as session:
        datasets = session.get(f"{service.url}/api/v1/datasets", timeout=30).json()
        controlled = next(d for d in datasets["datasets"] if d["tier"] == "controlled")
        detail = session.get(f"{service.url}/api/v1/datasets/{controlled['id']}",
                             timeout=30).json()
    file_id = next(f["id"] for f in detail["files"] if f["tier"] == "controlled")
    soak = Soak(service, controlled["id"], file_id)
    first_approval(soak)
    header = soak.tokens["researcher"]
    wrk_header = f"Authorization: {header['Authorization']}"
    file_ids = add_bulk_files(service, controlled["id"], file_id)
    path = f"/api/v1/files/{file_id}/url"
    url = f"{service.url}{path}"
    contenders = [("hello", hello, None), ("url", url, wrk_header)]
    if floor:
        contenders.append(("floor", f"{floor}{path}", wrk_header))
    results: dict[tuple[str, int], list[Wrk]] = {}
    # One app checks the queue before every run, not a whole app built for each check
    # (nine a round).
    with service.app() as checker:
        for _, target, with_header in contenders:  # warm the workers: imports, pools, boto3
            wrk(target, 8, 2, with_header)
        drained(checker)
        events_before, served_before = url_events(service), served_2xx(service, path)
        since = datetime.now(UTC) - timedelta(seconds=1)
        for round_ in range(rounds):
            # Reversed every other round and rotated every round: no contender always
            # follows the same one (with two, they swap each round). Each starts with the
            # queue chained, so none inherits another's backlog.
            order = contenders if round_ % 2 == 0 else contenders[::-1]
            start = round_ % len(order)
            for connections in (8, 16, 1):
                for label, target, with_header in order[start:] + order[:start]:
                    drained(checker)
                    results.setdefault((label, connections), []).append(
                        wrk(target, connections, seconds, with_header))
        drained(checker)
    lags = lag_seconds(service, since)
    events = url_events(service) - events_before
    served = served_2xx(service, path) - served_before
    ok = True
    print(f"\n== {name}: {rounds} rounds of {seconds} s; medians of the rounds")
    for connections in (8, 16):
        hello_rate = statistics.median(r.requests_per_s for r in results[("hello", connections)])
        url_rate = statistics.median(r.requests_per_s for r in results[("url", connections)])
        ratio = url_rate / hello_rate
        ok &= ratio >= TARGET_RATIO
        print(f"  {connections:>2} connections: hello {hello_rate:,.0f} req/s, URL issuance "
              f"{url_rate:,.0f} req/s, ratio {ratio:.3f} (target {TARGET_RATIO})", flush=True)
        if floor:
            floor_rate = statistics.median(
                r.requests_per_s for r in results[("floor", connections)])
            print(f"      floor {floor_rate:,.0f} req/s: floor / hello "
                  f"{floor_rate / hello_rate:.3f}, URL issuance / floor "
                  f"{url_rate / floor_rate:.3f}", flush=True)
    for label, *_ in contenders:
        one = results[(label, 1)]
        p50 = statistics.median(r.p50_ms for r in one)
        p99 = statistics.median(r.p99_ms for r in one)
        rate = statistics.median(r.requests_per_s for r in one)
        print(f"   1 connection, {label:<5}: p50 {p50:.2f} ms, p99 {p99:.2f} ms, {rate:,.0f} req/s")
        if label == "url":
            ok &= p50 <= TARGET_P50_MS
    errors = sum(r.non_2xx + r.socket_errors for runs in results.values() for r in runs)
    ok &= errors == 0 and events == served
    print(f"  errors (non-2xx + socket errors over every round): {errors}")
    print(f"  url:issue events added {events:,}, 2xx answers served {served:,}: "
          f"{'equal' if events == served else 'DIFFERENT'}")
    if lags:
        p50_lag, p99_lag = lags[len(lags) // 2], lags[int(0.99 * (len(lags) - 1))]
        ok &= p99_lag <= TARGET_LAG_S
        print(f"  sequencer lag (occurred_at to chained_at) over {len(lags):,} events: "
              f"p50 {p50_lag * 1000:.0f} ms, p99 {p99_lag * 1000:.0f} ms, "
              f"max {lags[-1] * 1000:.0f} ms (target p99 <= {TARGET_LAG_S:.0f} s)")
    bulk, failures = bulk_access(service, header, file_ids, BULK_TIMES)
    ok &= not failures and max(bulk) <= TARGET_BULK_S
    print(f"  DRS bulk access, {BULK} objects in one request, {BULK_TIMES} times: "
          + (f"median {statistics.median(bulk) * 1000:.0f} ms, max {max(bulk) * 1000:.0f} ms; "
             if bulk else "")
          + f"failed {len(failures)} {failures[:3]} (target <= {TARGET_BULK_S:.0f} s)",
          flush=True)
    if memory:
        ok &= memory_check(service, url, wrk_header, memory)
    return ok


def memory_check(service: Service, url: str, header: str, total: int) -> bool:
    """Each worker's RSS after 1,000 issuances, then after ``total``."""
    start = url_events(service)

    def issue_until(count: int) -> None:
        while url_events(service) - start < count:
            wrk(url, 8, 5, header)

    issue_until(1000)
    early = worker_rss_kib(service)
    issue_until(total)
    late = worker_rss_kib(service)
    issued = url_events(service) - start
    growth = max(after / before - 1 for before, after in zip(early, late, strict=True))
    print(f"  memory: workers' RSS after 1,000 issuances {[f'{k / 1024:.1f}' for k in early]} "
          f"MiB, after {issued:,} {[f'{k / 1024:.1f}' for k in late]} MiB; largest growth "
          f"{growth:+.1%} (target within {TARGET_RSS:.0%})")
    return growth <= TARGET_RSS


def run(seconds: int, rounds: int, memory: int, serving: Serving = AS_MEASURED) -> bool:
    # The demo would integrate in each action's transaction (AUDIT_SEQUENCER=in_transaction);
    # production on PostgreSQL runs the sequencer thread, which is what is measured here.
    # The helper apps that set up and count (Service.app) take it too: one in in_transaction
    # mode would wait for the chain lock the leading worker holds.
    env = {"CUSTODIAN_RATE_LIMITS": "false", "CUSTODIAN_DRS_MAX_BULK_REQUEST_LENGTH": str(BULK)}
    sequenced = {"AUDIT_SEQUENCER": "thread"}
    ok = True
    with tempfile.TemporaryDirectory() as scratch, throwaway_cluster(durable=True) as cluster, \
            hello_service(Path(scratch), serving) as hello:
        local = Path(scratch) / "local"
        local.mkdir()
        with gunicorn_demo(cluster.url, local, workers=serving.workers, env=env,
                           options=serving.options,
                           settings_overrides=sequenced) as service, \
                floor_service(Path(scratch), serving, service) as floor:
            ok &= measure("local-disk backend", service, hello, seconds, rounds, memory, floor)
        with running_s3rver("custodian-bench") as s3:
            os.environ.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY,
                               "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
                               "AWS_CONFIG_FILE": os.devnull,
                               "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
            s3_dir = Path(scratch) / "s3"
            s3_dir.mkdir()
            overrides = {**sequenced, "STORAGE_BACKEND": "s3", "S3_BUCKET": s3.bucket,
                         "S3_ENDPOINT_URL": s3.endpoint_url, "S3_ADDRESSING_STYLE": "path"}
            with gunicorn_demo(cluster.url, s3_dir, workers=serving.workers, env=env,
                               options=serving.options,
                               settings_overrides=overrides) as service:
                ok &= measure("S3 backend (s3rver)", service, hello, seconds, rounds, None)
    print(json.dumps({"targets_met": ok}))
    return ok


def main() -> None:
    # Stopped (timeout, kill): still stop gunicorn and PostgreSQL on the way out.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(1))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory", type=int, default=100_000,
                        help="URL issuances before the second RSS reading (0: skip)")
    parser.add_argument("--as-shipped", action="store_true",
                        help="serve both with deploy/gunicorn.conf.py's defaults instead of "
                             "2 sync workers")
    parser.add_argument("--sync-workers", type=int, default=AS_MEASURED.workers,
                        help="how many sync workers serve both (without --as-shipped)")
    args = parser.parse_args()
    serving = AS_SHIPPED if args.as_shipped else sync_workers(args.sync_workers)
    print(f"serving: {serving.name}", flush=True)
    raise SystemExit(0 if run(args.seconds, args.rounds, args.memory, serving) else 1)


if __name__ == "__main__":
    main()
