"""Verification of 1,000,000 audit events on a durable PostgreSQL: the chain and the Merkle root.

    .venv/bin/python -m benchmarks.audit_verify [--events 1000000]

The events take the shapes the service writes and are hashed with the reference encoding
(``event_hashes``), then loaded with COPY, so the run doubles as a cross-check of the batch
check against the reference over a million varied events. Timed, one after another:

- reading the rows ``verify_chain`` reads, and nothing else: the floor of the database path;
- ``verify_chain``: every seq, link, chain and leaf hash;
- ``write_checkpoint``: a signed checkpoint over all of them from scratch, which builds
  the Merkle tree and stores its nodes;
- ``verify_checkpoints``: read the leaf hashes back, rebuild the root, check the signature;
- ``verify_log``, what ``flask audit verify`` runs: both checks in one pass over the events;
- the export an auditor takes away (``flask audit export``), written to a file as the
  command writes it: in one process, then with its events encoded in the processes the
  command starts by default (one per core, up to four), and the two files compared;
- ``python -m audit.verify`` on that file (``verify_export``), in this process: the chain,
  the Merkle tree and the checkpoint signature, once PostgreSQL has stopped, three times
  (``--rounds``), as this machine's speed drifts from one minute to the next.

Rates are per second of wall time and per second of CPU time, this process's and its
workers': the database serves from the other core, the checking runs on one (the
export's workers excepted).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from audit.integrity.chain_check import cyclic_gc_paused, stored_rows, verify_chain
from audit.integrity.checkpoints import CheckpointSigner, verify_checkpoints, write_checkpoint
from audit.integrity.export_processes import default_export_processes, event_batches_in_processes
from audit.integrity.log_check import verify_log
from audit.integrity.log_export import export_lines
from audit.integrity.offline_verifier import verify_export
from audit.log.chain import HASHED_FIELDS, event_hashes
from audit.log.models import GENESIS_HASH
from audit.log.search_keys import search_keys
from core.db import canonical_json, make_engine, make_session_factory
from core.migrations import upgrade
from tests.postgres import create_database, throwaway_cluster

VERIFY_BATCH = 10_000  # verify_chain's default
COPIED = (*HASHED_FIELDS, "prev_hash", "hash", "leaf_hash", "dataset_id", "file_id")
AGENTS = ("Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Safari/605.1.15",
          "curl/8.5.0", "python-requests/2.32.3", None)
T = TypeVar("T")
ISSUERS = ("https://login.example.edu/realms/research", "https://cilogon.org",
           "https://stsstg.nih.gov")


def _event(rng: random.Random, seq: int, at: datetime) -> dict[str, Any]:
    """One event as the service records it: mostly URLs issued and files served."""
    user = rng.randrange(1, 100_001)
    dataset, file = rng.randrange(1, 501), rng.randrange(1, 1_000_001)
    action, outcome, target_type, target_id, details = rng.choice((
        ("url:issue", "success", "file", file, {"dataset_id": dataset, "expires_in": 900}),
        ("url:issue", "success", "file", file, {"dataset_id": dataset, "expires_in": 3600}),
        ("file:serve", "success", "file", file,
         {"dataset_id": dataset, "bytes": rng.randrange(10**9), "range": "bytes=0-1048575"}),
        ("url:refuse", "denied", "file", file,
         {"dataset_id": dataset, "reason": "no live grant for this dataset"}),
        ("auth:login", "success", "user", user, {"provider": "default"}),
        ("request:submit", "success", "request", seq,
         {"title": "Tissue-specific eQTLs in ageing donors — cohort 2", "dataset_ids": [dataset]}),
    ))
    return {
        "seq": seq, "occurred_at": at, "action": action, "outcome": outcome,
        "actor_user_id": user, "actor_issuer": rng.choice(ISSUERS),
        "actor_subject": f"{user:08x}-4b1e-4c7a-9d2f-{seq % 99991:012x}",
        "actor_token_id": rng.choice((None, None, user)),
        "actor_roles": rng.choice(("researcher", "auditor,researcher", "")),
        "ip": f"198.51.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        "user_agent": rng.choice(AGENTS), "request_id": f"{rng.getrandbits(128):032x}",
        "target_type": target_type, "target_id": str(target_id), "details": details,
    }


def _rows(count: int) -> Iterator[tuple[Any, ...]]:
    """The events with their reference hashes, as COPY takes them (JSON as canonical text)."""
    rng = random.Random(4)  # noqa: S311  (synthetic data, not secrets)
    at, prev = datetime(2025, 1, 6, 8, 0), GENESIS_HASH
    for seq in range(1, count + 1):
        at += timedelta(microseconds=rng.randrange(1, 60_000_000))
        fields = _event(rng, seq, at)
        chain, leaf = event_hashes(prev, fields)
        dataset_id, file_id = search_keys(fields["target_type"], fields["target_id"],
                                          fields["details"])
        values = {**fields, "details": canonical_json(fields["details"]), "prev_hash": prev,
                  "hash": chain, "leaf_hash": leaf, "dataset_id": dataset_id, "file_id": file_id}
        yield tuple(values[name] for name in COPIED)
        prev = chain


def load(engine: Engine, count: int) -> None:
    connection = engine.raw_connection()
    try:
        with connection.cursor() as cursor, cursor.copy(  # type: ignore[attr-defined]
            f"COPY audit_events ({', '.join(COPIED)}) FROM STDIN"
        ) as copy:
            for row in _rows(count):
                copy.write_row(row)
        connection.commit()
    finally:
        connection.close()
    with engine.begin() as transaction:
        transaction.execute(text("ANALYZE audit_events"))


def cpu_seconds() -> float:
    """This process's CPU time and its finished children's (the export's workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def timed(label: str, events: int, work: Callable[[], T]) -> T:
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = work()
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    print(f"| {label} | {wall:.1f} s | {events / wall:,.0f}/s | {events / cpu:,.0f}/s |",
          flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3,
                        help="times the offline verifier runs over the export")
    args = parser.parse_args()
    count: int = args.events
    with tempfile.TemporaryDirectory() as folder:
        export = Path(folder) / "audit.jsonl"
        public_key = in_the_database(count, export)
        # PostgreSQL has stopped: nothing of it runs on the other core while an auditor's
        # verifier, which needs no database, reads the export.
        for round_number in range(1, args.rounds + 1):
            offline = timed(f"`python -m audit.verify` on the export, round {round_number}",
                            count, lambda: verify_export(export, [public_key]))
            assert offline.ok and offline.events == count, offline.describe()


def in_the_database(count: int, export: Path) -> bytes:
    """Every step that needs the database, the export last; returns the signer's key."""
    with throwaway_cluster(durable=True) as cluster:
        engine = make_engine(create_database(cluster.url, "verify"))
        upgrade(engine)
        started = time.perf_counter()
        load(engine, count)
        print(f"{count:,} events made and loaded in {time.perf_counter() - started:.0f} s\n")
        print("| step | time | events/s (wall) | events/s (CPU, with the export's workers) |")
        print("| --- | ---: | ---: | ---: |")
        factory = make_session_factory(engine)
        signer = CheckpointSigner.from_seed(os.urandom(32), origin="bench.example.org/audit",
                                            every=count)
        with factory() as session:
            timed("reading the rows alone (`verify_chain` without its checks)", count,
                  lambda: sum(len(rows) for rows in stored_rows(session, VERIFY_BATCH)))
        with factory() as session:
            report = timed("verify_chain", count, lambda: verify_chain(session, VERIFY_BATCH))
        assert report.ok and report.events_checked == count, report
        with factory.begin() as session:
            timed("write_checkpoint (build the tree)", count,
                  lambda: write_checkpoint(session, signer, count, datetime.now(UTC)))
        with factory() as session:
            checked = timed("verify_checkpoints (rebuild the root)", count,
                            lambda: verify_checkpoints(session, signer))
        assert checked.ok and checked.checkpoints_checked == 1, checked
        with factory() as session:
            both = timed("`flask audit verify` (`verify_log`: chain and checkpoints, one pass)",
                         count, lambda: verify_log(session, signer, VERIFY_BATCH))
        assert both.ok and both.chain.events_checked == count, both
        assert both.checkpoints.checkpoints_checked == 1, both
        now, processes = datetime.now(UTC), default_export_processes("postgresql")
        in_processes = export.with_suffix(".processes.jsonl")
        timed("export (`flask audit export`), one process", count,
              lambda: write_export(factory, export, count, now, signer))
        timed(f"export, {processes} processes (the command's default here)", count,
              lambda: write_export(factory, in_processes, count, now, signer,
                                   event_batches_in_processes(engine, count, processes)))
        assert filecmp.cmp(export, in_processes, shallow=False), "the exports differ"
        in_processes.unlink()
        engine.dispose()
    return signer.public_key


def write_export(factory: sessionmaker[Session], path: Path, count: int, now: datetime,
                 signer: CheckpointSigner,
                 batches: Iterable[tuple[Sequence[int], list[bytes]]] | None = None) -> None:
    """As the command writes it: a piece at a time to a binary file, the collector paused."""
    with factory() as session, path.open("wb") as out, cyclic_gc_paused():
        out.writelines(export_lines(session, count, now=now, signer=signer, batches=batches))


if __name__ == "__main__":
    main()
