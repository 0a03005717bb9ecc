"""htsget tickets for 1 Mb regions of a 1 GB VCF: how long a ticket takes, and how many of
the file's bytes it sends a client to fetch.

A synthetic bgzipped VCF of about 1 GB (``--size-mb``) over chr1-chr3, with a tabix index
made by pysam, is registered in a demo instance on a throwaway PostgreSQL cluster with
default durability. A researcher with a grant asks, through the app in-process (Flask test
client: token, scope, grant and agreement checks, the ticket's audit event and its commit),
for tickets of random 1 Mb regions of chr2, after one cold ticket that reads the index and
header from storage. In the same run the same researcher asks for a plain signed download
URL of the same file, the ratio showing what slicing costs on top of a download.

Records are about 114 bytes compressed, each with a random base64 INFO payload so that the file does
not compress below its size target; their density (about 12 per kb) is that of a
whole-genome genotype VCF such as GTEx's.
"""

from __future__ import annotations

import argparse
import base64
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pysam
from sqlalchemy import select

from access.identity.actor import Actor
from access.identity.models import User
from access.models import Grant
from access.requests.models import AccessRequest
from access.tokens import create_api_token
from app import create_app
from config import load_settings
from core.migrations import upgrade
from datasets.catalogue.models import Dataset, FileKind, Tier
from datasets.catalogue.registration import register_file
from datasets.demo.set_up import SYSTEM_ACTOR, set_up_demo
from datasets.demo.synthetic_study import CONSENT_GROUP_ACCESSION
from datasets.genomics import bgzf
from tests.agreements import accept_as
from tests.conftest import DemoInstance
from tests.postgres import create_database, throwaway_cluster

CONTIGS = {"chr1": 248_956_422, "chr2": 242_193_529, "chr3": 198_295_559}
REGION = 1_000_000


def write_vcf(path: Path, size_mb: int, seed: int = 18) -> int:
    """Writes about ``size_mb`` MB of BGZF; returns the number of records."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    per_record = 114  # compressed bytes, nearly all of it the random payload
    records = size_mb * 1_000_000 // per_record
    total = sum(CONTIGS.values())
    header = ["##fileformat=VCFv4.2",
              *(f"##contig=<ID={c},length={n}>" for c, n in CONTIGS.items()),
              '##INFO=<ID=R,Number=1,Type=String,Description="Random payload">',
              "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    pending = bytearray(("\n".join(header) + "\n").encode())
    written = 0
    with path.open("wb") as out:
        for contig, length in CONTIGS.items():
            count = records * length // total
            step = length / count
            for number in range(count):
                payload = base64.b64encode(rng.randbytes(105)).decode()
                pending += (f"{contig}\t{int(number * step) + 1}\t.\tA\tG\t.\tPASS\t"
                            f"R={payload}\n").encode()
                if len(pending) >= 64 * bgzf.BLOCK_INPUT:
                    out.write(bgzf.compress(bytes(pending)))
                    pending.clear()
            written += count
        out.write(bgzf.compress(bytes(pending)) + bgzf.EOF_BLOCK)
    return written


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--tickets", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, throwaway_cluster(durable=True) as cluster:
        root = Path(scratch)
        started = time.perf_counter()
        vcf = root / "instance" / "storage" / "bench" / "genotypes.vcf.gz"
        vcf.parent.mkdir(parents=True)
        records = write_vcf(vcf, args.size_mb)
        written = time.perf_counter()
        pysam.tabix_index(str(vcf), preset="vcf", force=True, keep_original=True)
        indexed = time.perf_counter()
        size = vcf.stat().st_size
        print(f"VCF: {size:,} bytes, {records:,} records, written in {written - started:.0f} s,"
              f" tabix index ({Path(f'{vcf}.tbi').stat().st_size:,} bytes) in "
              f"{indexed - written:.0f} s")
        settings = load_settings(environ={}, overrides={
            "ENV": "demo", "INSTANCE_DIR": str(root / "instance"),
            "DATABASE_URL": create_database(cluster.url, "bench")})
        app = create_app(settings)
        upgrade(app.extensions["custodian.engine"])
        demo = DemoInstance(app, app.extensions["custodian.clock"], settings,
                            settings.public_url)
        factory = app.extensions["custodian.session_factory"]
        now = demo.clock.now()
        with app.app_context(), factory.begin() as session:
            set_up_demo(session, issuer=settings.dev_idp_issuer,
                        storage=app.extensions["custodian.storage"], now=now)
        with app.app_context(), factory.begin() as session:
            dataset = session.scalars(select(Dataset).where(
                Dataset.accession == CONSENT_GROUP_ACCESSION)).one()
            data_file = register_file(
                session, SYSTEM_ACTOR, dataset, vcf, key="bench/genotypes.vcf.gz",
                kind=FileKind.GENOTYPE, tier=Tier.CONTROLLED, description="1 GB benchmark",
                storage=app.extensions["custodian.storage"], now=now,
                index_source=Path(f"{vcf}.tbi"))
            file_id, dataset_id = data_file.id, dataset.id
            user = session.scalars(select(User).where(User.subject == "researcher")).one()
            request = AccessRequest(applicant_id=user.id, title="Benchmark",
                                    research_use_statement="htsget tickets.", state="approved",
                                    created_at=now, updated_at=now)
            session.add(request)
            session.flush()
            session.add(Grant(user_id=user.id, dataset_id=dataset_id, request_id=request.id,
                              starts_at=now - timedelta(days=1),
                              ends_at=now + timedelta(days=30)))
            token = create_api_token(session, Actor(user=user), name="bench", days=1,
                                     max_days=30, now=now).token
        accept_as(demo, "researcher", dataset_id)
        print(f"registered (checksums and the index check) in "
              f"{time.perf_counter() - indexed:.0f} s")
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        rng = random.Random(1)  # noqa: S311 - regions to ask for

        def ticket() -> tuple[float, int, int]:
            start = rng.randrange(CONTIGS["chr2"] - REGION)
            before = time.perf_counter()
            answer = client.get(f"/ga4gh/htsget/v1/variants/{file_id}?referenceName=chr2"
                                f"&start={start}&end={start + REGION}", headers=headers)
            took = time.perf_counter() - before
            assert answer.status_code == 200, answer.get_json()
            urls = answer.get_json()["htsget"]["urls"]
            fetched = sum(len(base64.b64decode(u["url"].split(",", 1)[1]))
                          if u["url"].startswith("data:")
                          else _range_size(u["headers"]["Range"]) for u in urls)
            return took, fetched, len(urls)

        def download_url() -> float:
            before = time.perf_counter()
            answer = client.get(f"/api/v1/files/{file_id}/url", headers=headers)
            assert answer.status_code == 200, answer.get_json()
            return time.perf_counter() - before

        cold, _, _ = ticket()
        times, fetched, blocks, urls = [], [], [], []
        for _ in range(args.tickets):  # alternating, so both see the same machine load
            took, got, count = ticket()
            times.append(took)
            fetched.append(got)
            blocks.append(count)
            urls.append(download_url())
        ms = [t * 1000 for t in times]
        url_ms = [t * 1000 for t in urls]
        print(f"cold ticket (index and header read from storage): {cold * 1000:.1f} ms")
        print(f"warm tickets, n={len(ms)}: p50 {statistics.median(ms):.1f} ms, "
              f"p95 {percentile(ms, 0.95):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, "
              f"max {max(ms):.1f} ms")
        print(f"download URL, n={len(url_ms)}: p50 {statistics.median(url_ms):.1f} ms, "
              f"p95 {percentile(url_ms, 0.95):.1f} ms; ticket/URL p50 ratio "
              f"{statistics.median(ms) / statistics.median(url_ms):.2f}")
        print(f"bytes a ticket names: median {statistics.median(fetched):,.0f} "
              f"({statistics.median(fetched) / size:.5f} of the file), max {max(fetched):,}; "
              f"a 1 Mb region holds about {REGION / sum(CONTIGS.values()) * size:,.0f} bytes "
              f"of records; blocks per ticket {min(blocks)}-{max(blocks)}")


def _range_size(header: str) -> int:
    start, end = header.removeprefix("bytes=").split("-")
    return int(end) - int(start) + 1


if __name__ == "__main__":
    main()
