"""Open-results queries at GTEx scale: 10,000,000 eQTL rows on PostgreSQL, gene and variant
queries through the real API, p95 latency against a 50 ms target.

A throwaway PostgreSQL cluster with default durability (fsync on) is started and removed
here. The rows are a synthetic file in the demo's layout, tissue after tissue as GTEx's
per-tissue files are, loaded through the real importer (`import_eqtls`, the code behind
`flask results import-eqtls`), so the load time is measured too. Queries go through the
Flask app in-process (its test client): routing, parsing, the gene lookup, the keyset
query and JSON, without a network hop.

    .venv/bin/python -m benchmarks.eqtl_queries [--rows 10000000] [--queries 1000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import TextClause, text

from access.identity.actor import Actor
from app import create_app
from config import load_settings
from core.migrations import upgrade
from datasets.results.loading import import_eqtls
from tests.postgres import create_database, throwaway_cluster

TARGET_MS = 50.0
WARM_UP = 50  # queries of each kind asked first and not measured
GENES = 20_000
VARIANTS_PER_GENE = 100  # cis variants per gene; each is significant in a few tissues
TISSUES = [f"Tissue {number:02d}" for number in range(1, 50)]  # GTEx v8 has 49 with eQTLs
ALLELES = [(ref, alt) for ref in "ACGT" for alt in "ACGT" if ref != alt]
HEADER = "gene_id\tgene_name\tvariant_id\ttissue\ttss_distance\tmaf\tpval_nominal\tslope" \
         "\tslope_se\tqval"
Sample = tuple[int, str, int, str]  # gene number, chromosome, position, variant id


def gene_id(number: int) -> str:
    return f"ENSG9{number:010d}.1"


def symbol(number: int) -> str:
    return f"SYN{number:05d}"


def tss(gene: int) -> int:
    return 2_000_000 + (gene * 7_919) % 200_000_000


def variant(gene: int, index: int) -> tuple[str, int, str]:
    """The gene's index-th cis variant, within 1 Mb of its TSS: (chromosome, position, id)."""
    chrom = f"chr{1 + gene % 22}"
    pos = tss(gene) + (index * 104_729 + gene * 7_919) % 2_000_001 - 1_000_000
    ref, alt = ALLELES[(gene + index) % len(ALLELES)]
    return chrom, pos, f"{chrom}_{pos}_{ref}_{alt}_b38"


def synthetic_lines(rows: int, samples: list[Sample], every: int) -> Iterator[str]:
    """Tissue after tissue, as GTEx's per-tissue files concatenated, so a gene's (and a
    variant's) rows lie scattered over the table as they would in production. Every
    ``every``-th row is kept in ``samples``, so the queries ask for what exists.

    The statistics come from a pool formatted once: formatting ten million rows' worth of
    floats would take longer than loading them."""
    rng = random.Random(424)  # noqa: S311 - synthetic data
    stats = [f"{rng.uniform(0.01, 0.5):.4f}\t{p:.4e}\t{rng.gauss(0, 0.5):.4f}\t"
             f"{rng.uniform(0.02, 0.2):.4f}\t{min(1.0, p * 50):.4e}"
             for p in (10 ** -rng.uniform(4, 40) for _ in range(100_000))]
    per_gene = rows / (len(TISSUES) * GENES)  # significant variants per gene and tissue
    yield HEADER
    written = 0
    while True:
        for tissue in TISSUES:
            for gene in range(1, GENES + 1):
                count = min(VARIANTS_PER_GENE, int(per_gene) + (rng.random() < per_gene % 1))
                prefix = f"{gene_id(gene)}\t{symbol(gene)}\t"
                for index in rng.sample(range(VARIANTS_PER_GENE), count):
                    chrom, pos, name = variant(gene, index)
                    yield (f"{prefix}{name}\t{tissue}\t{pos - tss(gene)}\t"
                           f"{rng.choice(stats)}")
                    written += 1
                    if written % every == 0:
                        samples.append((gene, chrom, pos, name))
                    if written == rows:
                        return


def latencies(client: FlaskClient, urls: list[str]) -> list[float]:
    """Milliseconds per request; every answer must be a 200 with rows."""
    measured = []
    for url in urls:
        started = time.perf_counter()
        response = client.get(url)
        measured.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200 or not response.get_json()["eqtls"]:
            raise SystemExit(f"{url}: {response.status_code} {response.get_data(as_text=True)}")
    return measured


def summary(name: str, values: list[float]) -> str:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    verdict = "meets" if cuts[94] <= TARGET_MS else "MISSES"
    return (f"{name:<32} n={len(values):>5}  p50 {cuts[49]:6.2f} ms  p95 {cuts[94]:6.2f} ms  "
            f"p99 {cuts[98]:6.2f} ms  max {max(values):7.2f} ms  ({verdict} {TARGET_MS:.0f} ms)")


def load(app: Flask, rows: int, scratch: Path, queries: int) -> list[Sample]:
    """Writes the synthetic file, imports it, and returns rows to ask for."""
    source = scratch / "eqtls.txt"
    samples: list[Sample] = []
    started = time.perf_counter()
    with source.open("w") as handle:
        for line in synthetic_lines(rows, samples, every=max(1, rows // queries)):
            handle.write(line + "\n")
    print(f"wrote {rows:,} rows ({source.stat().st_size / 1e9:.2f} GB) in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    with app.app_context(), app.extensions["custodian.session_factory"].begin() as session:
        import_eqtls(session, Actor(user=None), source, tissue=None,
                     now=app.extensions["custodian.clock"].now(), progress=_every_million)
    elapsed = time.perf_counter() - started
    print(f"imported in {elapsed:.0f} s ({rows / elapsed:,.0f} rows/s), one transaction",
          flush=True)
    source.unlink()
    return samples


def _every_million(done: int) -> None:
    if done % 1_000_000 == 0:
        print(f"  {done:,} rows", flush=True)


# The API's query shape for a gene and for a locus, to show which index serves each.
PLAN_BY_GENE = text(
    "EXPLAIN ANALYZE SELECT g.gene_id, g.symbol, t.name, e.* FROM eqtl_results e "
    "JOIN result_genes g ON g.id = e.gene_ref JOIN result_tissues t ON t.id = e.tissue_ref "
    "WHERE e.gene_ref = :gene ORDER BY e.pval_nominal, e.id LIMIT 101")
PLAN_BY_LOCUS = text(
    "EXPLAIN ANALYZE SELECT g.gene_id, g.symbol, t.name, e.* FROM eqtl_results e "
    "JOIN result_genes g ON g.id = e.gene_ref JOIN result_tissues t ON t.id = e.tissue_ref "
    "WHERE e.chrom = :chrom AND e.pos = :pos ORDER BY e.pval_nominal, e.id LIMIT 101")


def explain(app: Flask, plan: TextClause, **values: object) -> None:
    with app.extensions["custodian.engine"].connect() as connection:
        print("\n".join(row[0] for row in connection.execute(plan, values)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="eQTL query latency at 10 million rows")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--queries", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, throwaway_cluster(durable=True) as cluster:
        app = create_app(load_settings(environ={}, overrides={
            "ENV": "demo", "INSTANCE_DIR": scratch,
            "DATABASE_URL": create_database(cluster.url, "bench")}))
        upgrade(app.extensions["custodian.engine"])
        samples = load(app, args.rows, Path(scratch), args.queries + WARM_UP)
        random.Random(7).shuffle(samples)  # noqa: S311 - the order of asking
        # Alternate the spellings: symbol / Ensembl id without version, id / chrom:pos.
        gene_urls = [f"/api/v1/eqtls?gene={symbol(g) if i % 2 else gene_id(g).split('.')[0]}"
                     for i, (g, _, _, _) in enumerate(samples)]
        variant_urls = [f"/api/v1/eqtls?variant={v if i % 2 else f'{c}:{p}'}"
                        for i, (_, c, p, v) in enumerate(samples)]
        explain(app, PLAN_BY_GENE, gene=samples[0][0])
        explain(app, PLAN_BY_LOCUS, chrom=samples[0][1], pos=samples[0][2])
        client = app.test_client()
        latencies(client, gene_urls[:WARM_UP] + variant_urls[:WARM_UP])  # pools, caches
        print(summary("gene (symbol / Ensembl id)", latencies(client, gene_urls[WARM_UP:])))
        print(summary("variant (id / chrom:pos)", latencies(client, variant_urls[WARM_UP:])))
        app.extensions["custodian.engine"].dispose()


if __name__ == "__main__":
    main()
