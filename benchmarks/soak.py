"""A bounded soak: a mixed load of every role's work against gunicorn on durable PostgreSQL
for a fixed time, then the checks a deployment owes its auditors.

The demo is served by the shipped gunicorn config (2 workers, 4 threads each) on a throwaway
PostgreSQL cluster with fsync on. Client threads on loopback pick, at random by weight, one
of: browse the catalogue (API and pages), file and submit a request (researcher), endorse
(signing official), vote (committee member), approve (chair), issue a download URL and
fetch a range through it (researcher, under the grant of the first approval), search the
audit log (auditor). Each request moves through the workflow once, so no two threads act on
the same request. Rate limits are off: they would answer 429 to one client this busy.

Afterwards: server errors must be 0; for every audited action, the new audit events of its
tag must equal the successful answers the clients counted; ``flask audit verify`` must exit
0; the workers' resident memory is sampled every 10 s and its growth from the first minute
to the end reported. Exit status 1 when a check fails.

Run: ``.venv/bin/python -m benchmarks.soak`` (600 s; ``--seconds 30`` for a quick look).
"""

from __future__ import annotations

import argparse
import collections
import random
import re
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

from audit.log.models import AuditEvent
from tests.gunicorn_service import Service, gunicorn_demo
from tests.postgres import throwaway_cluster

STATEMENT = "We study tissue-specific regulation of gene expression in ageing adults."
WEIGHTS = {"browse": 30, "file": 10, "endorse": 10, "vote": 10, "approve": 10,
           "download": 25, "audit_search": 5}
# The audit tag each counted success must leave exactly once.
AUDITED = {"file": "request:create", "submit": "request:submit", "endorse": "request:endorse",
           "vote": "request:vote", "approve": "request:approve", "download": "url:issue",
           "fetch": "file:serve"}
PAGE_SIZE = 50


class Soak:
    """The shared state of the client threads: tokens, queues of requests, counts."""

    def __init__(self, service: Service, dataset_id: int, file_id: int) -> None:
        self.url = service.url
        self.tokens = {name: service.token(name) for name in (
            "researcher", "signing-official", "dac-member", "dac-chair", "auditor")}
        self.dataset_id, self.file_id = dataset_id, file_id
        self.queues: dict[str, collections.deque[int]] = {
            stage: collections.deque() for stage in ("submitted", "endorsed", "voted")}
        self.lock = threading.Lock()
        self.successes: collections.Counter[str] = collections.Counter()
        self.statuses: collections.Counter[int] = collections.Counter()
        self.unexpected: list[str] = []
        self.latencies: dict[str, list[float]] = collections.defaultdict(list)

    def call(self, session: requests.Session, who: str, method: str, path: str,
             expect: int = 200, **kwargs: Any) -> requests.Response | None:
        started = time.perf_counter()
        answer = session.request(method, f"{self.url}{path}", headers=self.tokens[who],
                                 timeout=60, **kwargs)
        took = time.perf_counter() - started
        with self.lock:
            self.statuses[answer.status_code] += 1
            self.latencies[f"{method} {re.sub(r'/[0-9]+', '/{id}', path.split('?')[0])}"
                           ].append(took)
            if answer.status_code != expect:
                self.unexpected.append(f"{method} {path} as {who}: {answer.status_code} "
                                       f"{answer.text[:200]}")
                return None
        return answer

    def count(self, what: str) -> None:
        with self.lock:
            self.successes[what] += 1

    def take(self, stage: str) -> int | None:
        with self.lock:
            return self.queues[stage].popleft() if self.queues[stage] else None

    def put(self, stage: str, request_id: int) -> None:
        with self.lock:
            self.queues[stage].append(request_id)

    # The actions, one call each of the workflow's own API.

    def browse(self, session: requests.Session) -> None:
        self.call(session, "researcher", "GET", "/api/v1/datasets")
        self.call(session, "researcher", "GET", f"/api/v1/datasets/{self.dataset_id}")
        self.call(session, "researcher", "GET", "/")

    def file(self, session: requests.Session) -> None:
        filed = self.call(session, "researcher", "POST", "/api/v1/requests", expect=201, json={
            "title": "Soak: ageing eQTLs", "research_use_statement": STATEMENT,
            "dataset_ids": [self.dataset_id]})
        if filed is None:
            return
        self.count("file")
        request_id = filed.json()["id"]
        if self.call(session, "researcher", "POST", f"/api/v1/requests/{request_id}/submit"):
            self.count("submit")
            self.put("submitted", request_id)

    def endorse(self, session: requests.Session) -> None:
        request_id = self.take("submitted")
        if request_id is None:
            return self.browse(session)
        if self.call(session, "signing-official", "POST",
                     f"/api/v1/requests/{request_id}/endorse"):
            self.count("endorse")
            self.put("endorsed", request_id)
        return None

    def vote(self, session: requests.Session) -> None:
        request_id = self.take("endorsed")
        if request_id is None:
            return self.browse(session)
        if self.call(session, "dac-member", "POST", f"/api/v1/requests/{request_id}/vote",
                     json={"vote": "approve", "rationale": "Consistent with the consent."}):
            self.count("vote")
            self.put("voted", request_id)
        return None

    def approve(self, session: requests.Session) -> None:
        request_id = self.take("voted")
        if request_id is None:
            return self.browse(session)
        if self.call(session, "dac-chair", "POST", f"/api/v1/requests/{request_id}/approve",
                     json={"reason": "Consistent with GRU consent.", "days": 30}):
            self.count("approve")
        return None

    def download(self, session: requests.Session) -> None:
        issued = self.call(session, "researcher", "GET", f"/api/v1/files/{self.file_id}/url")
        if issued is None:
            return
        self.count("download")
        fetched = session.get(issued.json()["url"], headers={"Range": "bytes=0-4095"},
                              timeout=60)
        with self.lock:
            self.statuses[fetched.status_code] += 1
        if fetched.status_code == 206 and len(fetched.content) == 4096:
            self.count("fetch")
        else:
            with self.lock:
                self.unexpected.append(f"GET signed URL: {fetched.status_code}")

    def audit_search(self, session: requests.Session) -> None:
        self.call(session, "auditor", "GET", f"/api/v1/audit/events?limit={PAGE_SIZE}"
                  "&action=url:issue")


def first_approval(soak: Soak) -> None:
    """One request through the whole workflow, and the agreement accepted, so downloads have
    a live grant from the start."""
    with requests.Session() as session:
        soak.file(session)
        soak.endorse(session)
        soak.vote(session)
        soak.approve(session)
        agreement = soak.call(session, "researcher", "GET",
                              f"/api/v1/datasets/{soak.dataset_id}/agreement")
        assert agreement is not None, soak.unexpected
        accepted = soak.call(session, "researcher", "POST",
                             f"/api/v1/datasets/{soak.dataset_id}/agreement/accept",
                             json={"version": agreement.json()["version"],
                                   "sha256": agreement.json()["sha256"]})
        assert accepted is not None and soak.successes["approve"] == 1, soak.unexpected


def worker_rss_kib(service: Service) -> int:
    """Resident memory of the gunicorn workers together (the master forks them)."""
    master = service.process.pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    total = 0
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def audit_counts(service: Service) -> collections.Counter[str]:
    with service.app() as app, app.extensions["custodian.session_factory"]() as session:
        rows = session.execute(select(AuditEvent.action, func.count()).group_by(
            AuditEvent.action)).all()
    return collections.Counter({action: count for action, count in rows})


def run(seconds: int, threads: int) -> bool:
    with tempfile.TemporaryDirectory() as scratch, throwaway_cluster(durable=True) as cluster, \
            gunicorn_demo(cluster.url, Path(scratch), workers=2,
                          env={"CUSTODIAN_RATE_LIMITS": "false"}) as service:
        with requests.Session() as session:
            datasets = session.get(f"{service.url}/api/v1/datasets", timeout=30).json()
        controlled = next(d for d in datasets["datasets"] if d["tier"] == "controlled")
        with requests.Session() as session:
            detail = session.get(f"{service.url}/api/v1/datasets/{controlled['id']}",
                                 timeout=30).json()
        file_id = next(f["id"] for f in detail["files"] if f["tier"] == "controlled")
        soak = Soak(service, controlled["id"], file_id)
        first_approval(soak)
        before = audit_counts(service)
        soak.successes.clear()
        memory: list[tuple[float, int]] = []
        started = time.monotonic()
        deadline = started + seconds
        actions: dict[str, Callable[[requests.Session], None]] = {
            name: getattr(soak, name) for name in WEIGHTS}

        def client(seed: int) -> None:
            rng = random.Random(seed)  # noqa: S311 - which action to take next
            names, weights = list(WEIGHTS), list(WEIGHTS.values())
            with requests.Session() as session:
                while time.monotonic() < deadline:
                    try:
                        actions[rng.choices(names, weights)[0]](session)
                    except requests.RequestException as exc:
                        with soak.lock:
                            soak.unexpected.append(f"connection: {exc}")

        workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
        for thread in workers:
            thread.start()
        while time.monotonic() < deadline:
            memory.append((time.monotonic() - started, worker_rss_kib(service)))
            time.sleep(10)
        for thread in workers:
            thread.join()
        elapsed = time.monotonic() - started
        after = audit_counts(service)
        with service.app() as app:
            verified = app.test_cli_runner().invoke(args=["audit", "verify"])
        return report(soak, before, after, memory, elapsed, verified.exit_code,
                      verified.output)


def report(soak: Soak, before: collections.Counter[str], after: collections.Counter[str],
           memory: list[tuple[float, int]], elapsed: float, verify_exit: int,
           verify_output: str) -> bool:
    answers = sum(soak.statuses.values())
    errors = sum(count for status, count in soak.statuses.items() if status >= 500)
    print(f"{answers:,} answers in {elapsed:.0f} s ({answers / elapsed:.0f}/s); statuses "
          f"{dict(sorted(soak.statuses.items()))}; server errors {errors}")
    print("successes: " + ", ".join(f"{k} {v:,}" for k, v in sorted(soak.successes.items())))
    ok = errors == 0 and not soak.unexpected
    for what, tag in AUDITED.items():
        events = after[tag] - before[tag]
        same = events == soak.successes[what]
        ok &= same
        print(f"  {what:<9} {soak.successes[what]:>7,} answers  {tag:<16} {events:>7,} events"
              f"  {'equal' if same else 'DIFFERENT'}")
    for line in soak.unexpected[:10]:
        print(f"unexpected: {line}")
    early = [kib for at, kib in memory if at <= 60] or [memory[0][1]]
    late = [kib for at, kib in memory if at >= elapsed - 60] or [memory[-1][1]]
    growth = statistics.median(late) / statistics.median(early) - 1
    print(f"workers' RSS: first minute median {statistics.median(early) / 1024:.1f} MiB, last "
          f"minute median {statistics.median(late) / 1024:.1f} MiB ({growth:+.1%}), "
          f"max {max(kib for _, kib in memory) / 1024:.1f} MiB over {len(memory)} samples")
    for name, values in sorted(soak.latencies.items()):
        if len(values) >= 20:
            ms = sorted(v * 1000 for v in values)
            print(f"  {name:<40} n={len(ms):>6,} p50 {statistics.median(ms):6.1f} ms  "
                  f"p99 {ms[int(0.99 * len(ms))]:7.1f} ms")
    print(f"flask audit verify: exit {verify_exit}; {verify_output.strip().splitlines()[-1]}")
    return ok and verify_exit == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    raise SystemExit(0 if run(args.seconds, args.threads) else 1)


if __name__ == "__main__":
    main()
