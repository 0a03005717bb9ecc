"""Scale: the hot paths at full size (1,000,000 files, 100,000 users, 1,000,000 grants,
5,000,000 audit events) against the same paths at 1 % of that, in one run.

    .venv/bin/python -m benchmarks.scale [--fraction 0.01 --fraction 1.0] [--calls 200]

One throwaway PostgreSQL cluster with default durability holds two databases, each migrated,
filled and served by an app of its own (the demo's settings, as the other benchmarks):

1. the audit events first, made, hashed and copied by ``benchmarks.audit_verify``'s own
   ``load``, so the chain the demo's seed then continues verifies;
2. the demo's seed (``set_up_demo``: personas, the demo committee and its chair, the
   synthetic study), then the researcher's grant on the demo's controlled dataset and on
   three bulk datasets, with their agreements accepted through the use case;
3. the bulk around it, with COPY: institutions, users (emails encrypted by the column's own
   type, lookups by the data keys), committees, studies, datasets with agreements, files,
   approved requests of two datasets each with their grants and acceptances, and a fixed
   number of requests waiting in each committee's queue.

The catalogue's shape (100 studies, 1,000 datasets, 100 committees, 20 waiting requests per
committee) is the same at every size: a page that lists every dataset grows with the
datasets by design. What grows is what the issue names: files, users, grants (and the
requests behind them) and audit events.

Then, through each app in-process (Flask test client), after a warm-up, each call ``--calls``
times in rounds that alternate the two databases: URL issuance, the catalogue page and API,
the DAC chair's queue, a request page, audit search (newest 50, and 50 of one dataset). It
prints p50 and p95 per size, the ratios large / small against the 1.5 target, and each
call's slowest statements with their EXPLAIN ANALYZE time at the largest size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, select, text

from access.duo.codes import code_for_shorthand
from access.identity.models import User
from access.models import Committee, CommitteeMembership, Grant
from access.requests.models import AccessRequest, RequestedDataset
from app import create_app
from audit.integrity.chain_check import verify_chain
from benchmarks import audit_verify
from config import load_settings
from core.field_encryption import EncryptedText, data_keys_of
from core.migrations import upgrade
from datasets.catalogue.models import DataFile, Dataset
from datasets.demo.set_up import COMMITTEE_NAME, set_up_demo
from datasets.demo.synthetic_study import CONSENT_GROUP_ACCESSION
from tests.agreements import accept_as
from tests.conftest import DemoInstance, issue_token
from tests.integration.test_pages_and_health import signed_in_client
from tests.postgres import create_database, throwaway_cluster

TARGET = 1.5
FULL = {"files": 1_000_000, "users": 100_000, "grants": 1_000_000, "events": 5_000_000}
STUDIES, DATASETS_PER_STUDY, COMMITTEES, INSTITUTIONS, WAITING = 100, 10, 100, 200, 20
WARM_UP = 20
ROUNDS = 4
KINDS = ("genotype", "expression", "clinical", "alignment")
DUO = [[code_for_shorthand("GRU")], [code_for_shorthand("HMB")],
       [code_for_shorthand("DS")], [code_for_shorthand("GRU"), code_for_shorthand("NPU")]]
STATEMENT = ("We map tissue-specific regulatory variants in ageing donors and relate them to "
             "expression — cohort {n}. Data stay on the institution's secured cluster.")
AGREEMENT = "Data-use agreement for bench dataset {n}, version 1: use only as approved."
Row = tuple[Any, ...]


@dataclass(frozen=True)
class Size:
    fraction: float
    files: int
    users: int
    grants: int
    events: int

    @classmethod
    def of(cls, fraction: float) -> Size:
        return cls(fraction, **{name: round(n * fraction) for name, n in FULL.items()})

    @property
    def label(self) -> str:
        return f"{self.fraction:g}"


@dataclass
class Instance:
    size: Size
    app: Flask
    demo: DemoInstance
    probes: dict[str, Callable[[int], None]]


# --- the generator ---------------------------------------------------------------------------


def copy_rows(engine: Engine, table: str, columns: Iterable[str], rows: Iterable[Row]) -> int:
    """COPY the rows into the table in one transaction; moves its id sequence past them."""
    names = list(columns)
    connection = engine.raw_connection()
    count = 0
    cursor: Any = connection.cursor()  # psycopg's, whose copy() the DBAPI type lacks
    try:
        with cursor, cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        if "id" in names:
            with connection.cursor() as after:  # type: ignore[attr-defined]
                after.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - our table names
                              f"(SELECT max(id) FROM {table}))")
        connection.commit()
    finally:
        connection.close()
    return count


def next_id(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}"))) + 1  # noqa: S608


class Bulk:
    """The rows around the demo's seed, each table's ids following what the seed wrote."""

    def __init__(self, app: Flask, size: Size, now: datetime) -> None:
        self.engine: Engine = app.extensions["custodian.engine"]
        self.dialect = self.engine.dialect
        self.size, self.now = size, now.replace(tzinfo=None)
        self.rng = random.Random(15)  # noqa: S311 - synthetic data
        self.first = {table: next_id(self.engine, table) for table in (
            "institutions", "users", "committees", "studies", "datasets",
            "data_use_agreements", "data_files", "access_requests", "requested_datasets",
            "grants", "agreement_acceptances")}
        with self.engine.connect() as connection:
            self.demo_committee = int(connection.scalar(
                text("SELECT id FROM committees WHERE name = :n"), {"n": COMMITTEE_NAME}))
        self.datasets = STUDIES * DATASETS_PER_STUDY

    def encrypted(self, model: Any, column: str, value: str) -> str:
        kind: EncryptedText = model.__table__.c[column].type
        return kind.process_bind_param(value, self.dialect)  # type: ignore[return-value]

    def dataset_id(self, index: int) -> int:
        return self.first["datasets"] + index

    def committee_of(self, index: int) -> int:
        """Dataset ``index``'s committee: the demo's governs every hundredth."""
        slot = index % COMMITTEES
        return self.demo_committee if slot == 0 else self.first["committees"] + slot - 1

    def load(self) -> dict[str, int]:
        loaded = {
            "institutions": copy_rows(self.engine, "institutions", ("id", "name", "created_at"), (
                (self.first["institutions"] + k, f"Bench University {k}", self.now)
                for k in range(INSTITUTIONS))),
            "users": copy_rows(self.engine, "users", (
                "id", "issuer", "subject", "email", "email_lookup", "name", "institution_id",
                "institution_source", "created_at", "last_login_at", "email_verified"),
                self.users()),
            "committees": copy_rows(self.engine, "committees", (
                "id", "name", "description", "default_approval_days"), (
                (self.first["committees"] + k, f"Bench DAC {k}", "", 365)
                for k in range(COMMITTEES - 1))),
            "studies": copy_rows(self.engine, "studies", ("id", "accession", "title",
                                                          "description"), (
                (self.first["studies"] + k, f"phs{800_000 + k}", f"Bench study {k}", "")
                for k in range(STUDIES))),
            "datasets": copy_rows(self.engine, "datasets", (
                "id", "study_id", "accession", "name", "duo_codes", "duo_disease_ids",
                "use_limitation_text", "committee_id"), self.dataset_rows()),
            "data_use_agreements": copy_rows(self.engine, "data_use_agreements", (
                "id", "dataset_id", "version", "text", "sha256", "created_at"), (
                (self.first["data_use_agreements"] + d, self.dataset_id(d), 1,
                 AGREEMENT.format(n=d), _sha256(AGREEMENT.format(n=d)), self.now)
                for d in range(self.datasets))),
            "data_files": copy_rows(self.engine, "data_files", (
                "id", "dataset_id", "name", "kind", "tier", "description", "storage_key",
                "size", "md5", "sha256", "created_at"), self.files()),
        }
        loaded |= self.requests()
        return loaded

    def users(self) -> Iterator[Row]:
        keys = data_keys_of(self.dialect)
        for n in range(self.size.users):
            email = f"researcher{n}@bench{n % INSTITUTIONS}.example.org"
            yield (self.first["users"] + n, audit_verify.ISSUERS[n % 3], f"bench-{n:08x}",
                   self.encrypted(User, "email", email), keys.lookup(email, "users.email"),
                   f"Researcher {n}", self.first["institutions"] + n % INSTITUTIONS,
                   "email_domain", self.now - timedelta(days=400), self.now, True)

    def dataset_rows(self) -> Iterator[Row]:
        for d in range(self.datasets):
            study = d // DATASETS_PER_STUDY
            disease = ["MONDO:0005148"] if d % len(DUO) == 2 else []  # DS names its disease
            yield (self.dataset_id(d), self.first["studies"] + study,
                   f"phs{800_000 + study}.v1.p1.c{d % DATASETS_PER_STUDY + 1}",
                   f"Consent group {d}", json.dumps(DUO[d % len(DUO)]), json.dumps(disease),
                   "Use limited by the data-use agreement.", self.committee_of(d))

    def files(self) -> Iterator[Row]:
        bits = self.rng.getrandbits
        for n in range(self.size.files):
            d = n % self.datasets  # spread evenly, interleaved as registrations come
            yield (self.first["data_files"] + n, self.dataset_id(d), f"sample-{n}.vcf.gz",
                   KINDS[n % len(KINDS)], "controlled", "", f"bench/{d}/{n}",
                   1_000_000 + n, f"{bits(128):032x}", f"{bits(256):064x}",
                   self.now - timedelta(days=n % 700))

    def requests(self) -> dict[str, int]:
        """Approved requests of two datasets each (one grant and acceptance per dataset),
        then WAITING requests in each committee's queue (submitted, endorsed, under review).
        A user's datasets differ, so each (user, dataset) pair has one grant."""
        pool = {name: [self.encrypted(AccessRequest, name, value.format(n=k)) for k in range(64)]
                for name, value in (("research_use_statement", STATEMENT),
                                    ("non_technical_summary", "A summary for the public {n}."),
                                    ("cloud_use_statement", ""), ("it_director_name", "IT {n}"),
                                    ("it_director_email", "it{n}@bench.example.org"))}
        approved = self.size.grants // 2
        request_rows: list[Row] = []
        parts: list[Row] = []
        grants: list[Row] = []
        accepted: list[Row] = []
        for r in range(approved + WAITING * COMMITTEES):
            request_id = self.first["access_requests"] + r
            user = r % self.size.users
            waiting = r >= approved
            if waiting:
                w = r - approved
                state = ("submitted", "endorsed", "under_review")[w % 3]
                chosen = [(w // WAITING) + COMMITTEES * (w % WAITING % DATASETS_PER_STUDY)]
            else:
                state = self.rng.choices(("approved", "expired", "revoked"), (7, 2, 1))[0]
                k = r // self.size.users
                chosen = [(user * 37 + j * 101) % self.datasets for j in (2 * k, 2 * k + 1)]
            submitted = self.now - timedelta(days=3 if waiting else 30 + r % 600,
                                             minutes=r % 1440)
            decided = None if waiting else submitted + timedelta(days=14)
            request_rows.append((
                request_id, self.first["users"] + user, f"Regulatory variants, cohort {r}",
                *(values[r % 64] for values in pool.values()), state, submitted, decided or
                submitted, submitted, decided, None if waiting else 365, "[]",
                False, False, False, False, False, 1,
                None if state == "submitted" else submitted + timedelta(days=1)))
            for d in chosen:
                parts.append((self.first["requested_datasets"] + len(parts), request_id,
                              self.dataset_id(d), self.committee_of(d)))
                if waiting or decided is None:
                    continue
                ends = decided + timedelta(days=365 if state != "expired" else 10)
                grants.append((self.first["grants"] + len(grants), self.first["users"] + user,
                               self.dataset_id(d), request_id, decided, ends,
                               decided + timedelta(days=5) if state == "revoked" else None,
                               "Project ended early" if state == "revoked" else None))
                accepted.append((self.first["agreement_acceptances"] + len(accepted),
                                 self.first["data_use_agreements"] + d,
                                 self.first["users"] + user, _sha256(AGREEMENT.format(n=d)),
                                 decided))
        columns = ("id", "applicant_id", "title", *pool, "state", "created_at", "updated_at",
                   "submitted_at", "decided_at", "approved_days", "purpose_disease_ids",
                   "purpose_health_medical", "purpose_methods_development",
                   "purpose_population_origins", "purpose_commercial_use",
                   "purpose_for_profit_organisation", "review_round", "endorsed_at")
        return {
            "access_requests": copy_rows(self.engine, "access_requests", columns, request_rows),
            "requested_datasets": copy_rows(self.engine, "requested_datasets", (
                "id", "request_id", "dataset_id", "committee_id"), parts),
            "grants": copy_rows(self.engine, "grants", (
                "id", "user_id", "dataset_id", "request_id", "starts_at", "ends_at",
                "revoked_at", "revoked_reason"), grants),
            "agreement_acceptances": copy_rows(self.engine, "agreement_acceptances", (
                "id", "agreement_id", "user_id", "sha256", "accepted_at"), accepted),
        }


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def researcher_access(demo: DemoInstance, bulk: Bulk) -> list[int]:
    """The researcher's grants on the demo's controlled dataset and on three bulk datasets
    (agreements accepted through the use case); returns files to ask URLs for."""
    factory = demo.app.extensions["custodian.session_factory"]
    now = demo.clock.now()
    with demo.app.app_context(), factory.begin() as session:
        user = session.scalars(select(User).where(User.subject == "researcher")).one()
        controlled = session.scalars(select(Dataset.id).where(
            Dataset.accession == CONSENT_GROUP_ACCESSION)).one()
        dataset_ids = [controlled, *(bulk.dataset_id(d) for d in (7, 123, 456))]
        request = AccessRequest(applicant_id=user.id, title="Scale benchmark",
                                research_use_statement="Hot paths at scale.", state="approved",
                                created_at=now, updated_at=now, submitted_at=now,
                                decided_at=now, approved_days=30)
        session.add(request)
        session.flush()
        for dataset_id in dataset_ids:
            session.add(Grant(user_id=user.id, dataset_id=dataset_id, request_id=request.id,
                              starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=30)))
    for dataset_id in dataset_ids:
        accept_as(demo, "researcher", dataset_id)
    with factory() as session:
        files = list(session.scalars(select(DataFile.id).where(
            DataFile.dataset_id.in_(dataset_ids), DataFile.tier == "controlled")))
    random.Random(5).shuffle(files)  # noqa: S311 - the order of asking
    return files[:500]


def build(cluster_url: str, size: Size, scratch: Path) -> Instance:
    instance_dir = scratch / f"instance-{size.label}"
    settings = load_settings(environ={}, overrides={
        "ENV": "demo", "INSTANCE_DIR": str(instance_dir), "RATE_LIMITS": "false",
        # No checkpoint falls due in a timed call: the first over a bulk-loaded log would
        # build the whole Merkle tree (audit_verify.py times that on its own).
        "AUDIT_CHECKPOINT_EVERY": "1000000",
        "DATABASE_URL": create_database(cluster_url, f"scale_{size.label.replace('.', '_')}")})
    app = create_app(settings)
    engine: Engine = app.extensions["custodian.engine"]
    upgrade(engine)
    demo = DemoInstance(app, app.extensions["custodian.clock"], settings, settings.public_url)
    started = time.perf_counter()
    audit_verify.load(engine, size.events)
    print(f"[{size.label}] {size.events:,} audit events made and copied in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    factory = app.extensions["custodian.session_factory"]
    with app.app_context(), factory.begin() as session:
        set_up_demo(session, issuer=settings.dev_idp_issuer,
                    storage=app.extensions["custodian.storage"], now=demo.clock.now())
    started = time.perf_counter()
    bulk = Bulk(app, size, demo.clock.now())
    loaded = bulk.load()
    print(f"[{size.label}] bulk rows copied in {time.perf_counter() - started:.0f} s: "
          + ", ".join(f"{table} {count:,}" for table, count in loaded.items()), flush=True)
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    print(f"[{size.label}] VACUUM ANALYZE in {time.perf_counter() - started:.0f} s", flush=True)
    return Instance(size, app, demo, probes(demo, bulk, researcher_access(demo, bulk)))


# --- the calls -------------------------------------------------------------------------------


def probes(demo: DemoInstance, bulk: Bulk, files: list[int]) -> dict[str, Callable[[int], None]]:
    factory = demo.app.extensions["custodian.session_factory"]
    with factory() as session:
        chair = session.scalars(select(CommitteeMembership.user_id).where(
            CommitteeMembership.committee_id == bulk.demo_committee,
            CommitteeMembership.is_chair)).first()
        assert chair is not None
        waiting = list(session.scalars(
            select(AccessRequest.id).join(RequestedDataset)
            .where(RequestedDataset.committee_id == bulk.demo_committee,
                   AccessRequest.state.in_(("endorsed", "under_review")))
            .order_by(AccessRequest.id)))
        assert waiting and session.get(Committee, bulk.demo_committee) is not None
    researcher = issue_token(demo, "researcher")
    auditor = issue_token(demo, "auditor")
    browser = signed_in_client(demo, "researcher")
    chair_browser = signed_in_client(demo, "dac-chair")
    api = demo.app.test_client()
    bulk_dataset = bulk.dataset_id(123)

    def get(client: FlaskClient, url: Callable[[int], str],
            headers: dict[str, str] | None = None) -> Callable[[int], None]:
        def call(i: int) -> None:
            answer = client.get(url(i), headers=headers)
            if answer.status_code != 200:
                raise SystemExit(f"{url(i)}: {answer.status_code} "
                                 f"{answer.get_data(as_text=True)[:500]}")
        return call

    return {
        "URL issuance `GET /api/v1/files/{id}/url`": get(
            api, lambda i: f"/api/v1/files/{files[i % len(files)]}/url", researcher),
        "catalogue page `/` (researcher)": get(browser, lambda i: "/"),
        "catalogue API `GET /api/v1/datasets`": get(api, lambda i: "/api/v1/datasets",
                                                    researcher),
        "committee queue `/committees/{id}/queue` (chair)": get(
            chair_browser, lambda i: f"/committees/{bulk.demo_committee}/queue"),
        "request page `/requests/{id}` (chair)": get(
            chair_browser, lambda i: f"/requests/{waiting[i % len(waiting)]}"),
        "audit search, newest 50": get(api, lambda i: "/api/v1/audit/events?limit=50", auditor),
        "audit search, one dataset's newest 50": get(
            api, lambda i: f"/api/v1/audit/events?dataset={1 + i % 500}&limit=50"
            if i % 2 else f"/api/v1/audit/events?dataset={bulk_dataset}&limit=50", auditor),
    }


def measure(instances: list[Instance], calls: int) -> dict[tuple[str, str], list[float]]:
    times: dict[tuple[str, str], list[float]] = {}
    for instance in instances:
        for probe in instance.probes.values():
            for i in range(WARM_UP):
                probe(i)
    per_round = max(1, calls // ROUNDS)
    for round_number in range(ROUNDS):
        # Alternate which size goes first, so machine drift weighs on both alike.
        order = instances if round_number % 2 == 0 else instances[::-1]
        for instance in order:
            for name, probe in instance.probes.items():
                got = times.setdefault((instance.size.label, name), [])
                for i in range(per_round):
                    started = time.perf_counter()
                    probe(WARM_UP + round_number * per_round + i)
                    got.append((time.perf_counter() - started) * 1000)
        print(f"round {round_number + 1} of {ROUNDS} done", flush=True)
    return times


def cut(values: list[float], share: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[share - 1]


def report(instances: list[Instance], times: dict[tuple[str, str], list[float]]) -> None:
    small, large = instances[0].size.label, instances[-1].size.label
    print(f"\n| call | n | p50 at {small} | p95 at {small} | p50 at {large} | p95 at {large} "
          f"| p50 ratio | p95 ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in instances[0].probes:
        a, b = times[(small, name)], times[(large, name)]
        ratios = [cut(b, share) / cut(a, share) for share in (50, 95)]
        marks = [f"**{r:.2f}**" if r <= TARGET else f"{r:.2f} (over {TARGET})" for r in ratios]
        print(f"| {name} | {len(b)} | {cut(a, 50):.1f} ms | {cut(a, 95):.1f} ms | "
              f"{cut(b, 50):.1f} ms | {cut(b, 95):.1f} ms | {marks[0]} | {marks[1]} |")


# --- where the time goes ---------------------------------------------------------------------


def explain(instance: Instance, shown: int = 3) -> None:
    """Each call's SELECTs, run again under EXPLAIN ANALYZE: the slowest few."""
    engine: Engine = instance.app.extensions["custodian.engine"]
    print(f"\nslowest statements per call at {instance.size.label} (EXPLAIN ANALYZE):")
    for name, probe in instance.probes.items():
        captured, count, waited, took = statements_of(engine, probe)
        plans = []
        connection = engine.raw_connection()
        cursor: Any = connection.cursor()
        try:
            with cursor:
                for statement, parameters in captured:
                    cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters)
                    plan = cursor.fetchone()[0][0]
                    plans.append((plan["Execution Time"], _node(plan["Plan"]),
                                  " ".join(statement.split())[:160]))
            connection.rollback()
        finally:
            connection.close()
        total = sum(p[0] for p in plans)
        print(f"- {name}: {took:.1f} ms; {count} statements waited on for {waited:.1f} ms; "
              f"its {len(plans)} SELECTs execute in {total:.1f} ms")
        for took, node, statement in sorted(plans, reverse=True)[:shown]:
            print(f"    {took:8.2f} ms  {node}  {statement}")


def statements_of(engine: Engine, probe: Callable[[int], None]
                  ) -> tuple[list[tuple[str, Any]], int, float, float]:
    """One call's SELECTs with their parameters as the driver got them; the number of all its
    statements, the milliseconds spent waiting on them, and the call's own milliseconds."""
    selects: list[tuple[str, Any]] = []
    waited = [0, 0.0]
    started: list[float] = []

    def executing(_c: Any, _cursor: Any, statement: str, parameters: Any, *_a: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append((statement, parameters))
        started.append(time.perf_counter())

    def executed(*_a: Any) -> None:
        waited[0] += 1
        waited[1] += (time.perf_counter() - started.pop()) * 1000

    event.listen(engine, "before_cursor_execute", executing)
    event.listen(engine, "after_cursor_execute", executed)
    call = time.perf_counter()
    try:
        probe(0)
    finally:
        event.remove(engine, "before_cursor_execute", executing)
        event.remove(engine, "after_cursor_execute", executed)
    return selects, int(waited[0]), waited[1], (time.perf_counter() - call) * 1000


def _node(plan: dict[str, Any]) -> str:
    """The plan's top nodes down to the first scan: enough to tell an index from a scan."""
    parts, node = [], plan
    while True:
        relation = f" on {node['Relation Name']}" if "Relation Name" in node else ""
        index = f" using {node['Index Name']}" if "Index Name" in node else ""
        parts.append(f"{node['Node Type']}{relation}{index} ({node.get('Actual Rows', 0)} rows)")
        if relation or not node.get("Plans"):
            return " > ".join(parts)
        node = max(node["Plans"], key=lambda p: p.get("Actual Total Time", 0))


def verify(instance: Instance) -> None:
    started = time.perf_counter()
    factory = instance.app.extensions["custodian.session_factory"]
    with factory() as session:
        checked = verify_chain(session)
    assert checked.ok, checked
    print(f"[{instance.size.label}] chain verified: {checked.events_checked:,} events in "
          f"{time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, action="append",
                        help="of full size; give it twice (small, large); default 0.01 and 1.0")
    parser.add_argument("--calls", type=int, default=200, help="timed calls of each kind")
    parser.add_argument("--no-verify", action="store_true", help="skip the chain checks")
    args = parser.parse_args()
    sizes = [Size.of(f) for f in sorted(args.fraction or [0.01, 1.0])]
    with tempfile.TemporaryDirectory() as scratch, throwaway_cluster(durable=True) as cluster:
        started = time.perf_counter()
        instances = [build(cluster.url, size, Path(scratch)) for size in sizes]
        print(f"loaded in {time.perf_counter() - started:.0f} s\n", flush=True)
        times = measure(instances, args.calls)
        report(instances, times)
        explain(instances[-1])
        if not args.no_verify:
            for instance in instances:
                verify(instance)
        for instance in instances:
            instance.app.extensions["custodian.engine"].dispose()


if __name__ == "__main__":
    main()
