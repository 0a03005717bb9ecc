"""`flask results import-*`: a good file reads back value for value, with its audit event; a
file with any bad line loads nothing and the report names the line."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import select

from audit.log.models import AuditEvent
from datasets.demo.set_up import set_up_demo
from datasets.results.models import ResultImport
from tests.conftest import DemoInstance
from tests.integration.open_results_support import (
    all_pages,
    eqtl_rows_from_file,
    parse_delimited,
    result_counts,
    typed,
    write_demo_files,
)

GTEX_HEADER = ("variant_id\tgene_id\ttss_distance\tma_samples\tma_count\tmaf\tpval_nominal\tslope"
               "\tslope_se\tpval_nominal_threshold\tmin_pval_nominal\tpval_beta")
GTEX_ROWS = [
    "chr1_64764_C_T_b38\tENSG00000227232.5\t35211\t32\t33\t0.0342\t1e-300\t-0.713\t0.0401\t"
    "2.1e-04\t1e-300\t3.2e-10",
    "chr1_14677_G_A_b38\tENSG00000227232.5\t-14677\t40\t41\t0.5\t4.5e-06\t0.25\t0.05\t"
    "2.1e-04\t1e-300\t3.2e-10",
    "chrX_100_GTA_G_b38\tENSG00000000003.14\t0\t12\t12\t0.1\t0.000123\t1.5e-3\t0.2\t"
    "2.1e-04\t1e-5\t3.2e-10",
]
DEMO_HEADER = "gene_id\tgene_name\tvariant_id\ttissue\ttss_distance\tmaf\tpval_nominal\tslope" \
              "\tslope_se\tqval"
DEMO_ROWS = [
    "ENSG00000111111.1\tMYGENE\tchr2_500_A_C_b38\tKidney - Cortex\t-20\t0.25\t0.001\t0.5\t0.1"
    "\t0.01",
    "ENSG00000111111.1\tMYGENE\tchr2_600_A_C_b38\tKidney - Cortex\t80\t0.3\t0.002\t-0.5\t0.1"
    "\tNA",
]


def run(demo: DemoInstance, *args: str) -> Result:
    return demo.app.test_cli_runner().invoke(args=["results", *args])


def write(path: Path, lines: list[str], *, compress: bool = False) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def test_demo_setup_loaded_each_open_file_once(demo: DemoInstance) -> None:
    with demo.app.extensions["custodian.session_factory"]() as session:
        kinds = Counter(session.scalars(select(ResultImport.kind)))
    assert kinds == {"eqtls": 1, "gene_expression": 1, "transcript_expression": 1}
    before = result_counts(demo)
    with demo.app.app_context(), demo.app.extensions["custodian.session_factory"].begin() as s:
        set_up_demo(s, issuer=f"{demo.base_url}/dev-idp", now=demo.clock.now(),
                    storage=demo.app.extensions["custodian.storage"])
    assert result_counts(demo) == before


def test_a_gtex_per_tissue_file_reads_back_value_for_value(
    demo: DemoInstance, tmp_path: Path
) -> None:
    source = write(tmp_path / "Kidney_Cortex.signif.txt.gz", [GTEX_HEADER, *GTEX_ROWS],
                   compress=True)
    result = run(demo, "import-eqtls", str(source), "--tissue", "Kidney - Cortex")
    assert result.exit_code == 0, result.output
    assert "Loaded 3 rows for 1 tissue(s)" in result.output
    client = demo.app.test_client()
    got = all_pages(client, "tissue=Kidney - Cortex", limit=2)
    columns = GTEX_HEADER.split("\t")
    kept = ("variant_id", "gene_id", "tss_distance", "maf", "pval_nominal", "slope", "slope_se")
    expected = [dict(zip(columns, line.split("\t"), strict=True)) for line in GTEX_ROWS]
    assert Counter(typed({k: row[k] for k in kept}) for row in got) == Counter(
        typed({k: row[k] for k in kept}) for row in expected)
    assert all(row["qval"] is None and row["gene_name"] is None for row in got)
    assert got[0]["pval_nominal"] == 1e-300
    with demo.app.extensions["custodian.session_factory"]() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "admin:results_import").order_by(AuditEvent.seq.desc())).first()
    assert event is not None and event.details["rows"] == 3
    assert event.details["tissues"] == ["Kidney - Cortex"]
    verified = demo.app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_a_plain_demo_layout_file_reads_back_and_downloads_the_same(
    demo: DemoInstance, tmp_path: Path
) -> None:
    source = write(tmp_path / "pairs.txt", [DEMO_HEADER, *DEMO_ROWS])
    assert run(demo, "import-eqtls", str(source)).exit_code == 0
    text = demo.app.test_client().get("/api/v1/eqtls?gene=MYGENE&format=tsv").get_data(
        as_text=True)
    columns = DEMO_HEADER.split("\t")
    assert Counter(typed(row) for row in parse_delimited(text, "\t")) == Counter(
        typed(dict(zip(columns, line.split("\t"), strict=True))) for line in DEMO_ROWS)


def test_expression_matrices_read_back_value_for_value(demo: DemoInstance, tmp_path: Path) -> None:
    genes = write(tmp_path / "genes.gct", [
        "#1.2", "2\t2", "Name\tDescription\tKidney - Cortex\tTestis",
        "ENSG00000111111.1\tMYGENE\t12.5\t0", "ENSG00000222222.3\tOTHER\t0.0001\t98765.4321"])
    transcripts = write(tmp_path / "transcripts.gct.gz", [
        "#1.2", "2\t1", "transcript_id\tgene_id\tTestis",
        "ENST00000000001.1\tENSG00000111111.1\t3.25", "ENST00000000002.2\tENSG00000111111.1\t9"],
        compress=True)
    assert run(demo, "import-expression", str(genes), "--kind", "gene").exit_code == 0
    assert run(demo, "import-expression", str(transcripts), "--kind", "transcript").exit_code == 0
    client = demo.app.test_client()
    other = client.get("/api/v1/expression/genes/ENSG00000222222").get_json()
    assert other["gene"] == {"gene_id": "ENSG00000222222.3", "gene_name": "OTHER"}
    assert other["expression"] == [{"tissue": "Kidney - Cortex", "median_tpm": 0.0001},
                                   {"tissue": "Testis", "median_tpm": 98765.4321}]
    isoforms = client.get("/api/v1/expression/genes/MYGENE/isoforms").get_json()["isoforms"]
    assert isoforms == [
        {"transcript_id": "ENST00000000001.1", "tissue": "Testis", "median_tpm": 3.25},
        {"transcript_id": "ENST00000000002.2", "tissue": "Testis", "median_tpm": 9.0}]


def test_importing_a_tissue_again_replaces_only_that_tissue(
    demo: DemoInstance, tmp_path: Path
) -> None:
    source = write(tmp_path / "Liver.signif.txt", [GTEX_HEADER, *GTEX_ROWS])
    assert run(demo, "import-eqtls", str(source), "--tissue", "Liver").exit_code == 0
    client = demo.app.test_client()
    liver = all_pages(client, "tissue=Liver", limit=1000)
    assert sorted(row["variant_id"] for row in liver) == sorted(
        line.split("\t")[0] for line in GTEX_ROWS)
    files = write_demo_files(tmp_path / "demo")
    lung = all_pages(client, "tissue=Lung", limit=1000)
    assert Counter(typed(row) for row in lung) == Counter(eqtl_rows_from_file(files, tissue="Lung"))


def bad_eqtl(line: str) -> list[str]:
    return [DEMO_HEADER, DEMO_ROWS[0], line, DEMO_ROWS[1]]


GOOD = DEMO_ROWS[0].split("\t")


def changed(column: int, value: str) -> str:
    return "\t".join([*GOOD[:column], value, *GOOD[column + 1:]])


@pytest.mark.parametrize("lines, args, line, fragment", [
    (bad_eqtl(changed(6, "abc")), [], 3, "pval_nominal 'abc' is not a number"),
    (bad_eqtl(changed(6, "1.5")), [], 3, "pval_nominal '1.5' is outside [0, 1]"),
    (bad_eqtl(changed(6, "nan")), [], 3, "pval_nominal 'nan' is outside"),
    (bad_eqtl(changed(5, "0.7")), [], 3, "maf '0.7' is outside [0, 0.5]"),
    (bad_eqtl(changed(4, "1.5")), [], 3, "tss_distance '1.5' is not a whole number"),
    (bad_eqtl(changed(2, "rs12345")), [], 3, "variant_id: 'rs12345' is neither"),
    (bad_eqtl(changed(3, "")), [], 3, "tissue '' is empty"),
    (bad_eqtl(changed(9, "0.x")), [], 3, "qval '0.x' is not a number"),
    (bad_eqtl("\t".join(GOOD[:-1])), [], 3, "expected 10 tab-separated fields, found 9"),
    ([DEMO_HEADER.replace("\tslope_se", ""), *DEMO_ROWS], [], 1, "lacks column(s) slope_se"),
    ([DEMO_HEADER, *DEMO_ROWS], ["--tissue", "Liver"], 1, "leave out --tissue"),
    ([GTEX_HEADER, *GTEX_ROWS], [], 1, "name it with --tissue"),
    ([], [], 1, "the file is empty"),
], ids=["pval-text", "pval-range", "pval-nan", "maf-range", "tss-float", "variant-rsid",
        "tissue-empty", "qval-text", "short-row", "missing-column", "tissue-twice",
        "tissue-missing", "empty"])
def test_a_malformed_eqtl_file_loads_nothing_and_names_the_line(
    demo: DemoInstance, tmp_path: Path, lines: list[str], args: list[str], line: int,
    fragment: str,
) -> None:
    before = result_counts(demo)
    result = run(demo, "import-eqtls", str(write(tmp_path / "bad.txt", lines)), *args)
    assert result.exit_code == 1, result.output
    assert "nothing was loaded" in result.output
    assert f"line {line}: " in result.output and fragment in result.output, result.output
    assert result_counts(demo) == before


GCT = ["#1.2", "2\t2", "Name\tDescription\tLiver\tLung", "ENSG00000111111.1\tMYGENE\t1\t2",
       "ENSG00000222222.3\tOTHER\t3\t4"]


@pytest.mark.parametrize("lines, kind, line, fragment", [
    (["#1.3", *GCT[1:]], "gene", 1, "starts with the line #1.2"),
    ([GCT[0], "two\t2", *GCT[2:]], "gene", 2, "row and column counts"),
    (GCT, "transcript", 3, "names its first columns transcript_id and gene_id"),
    ([*GCT[:3], GCT[3], GCT[3]], "gene", 5, "ENSG00000111111.1 is already on line 4"),
    ([*GCT[:4], "ENSG00000222222.3\tOTHER\t-3\t4"], "gene", 5, "Liver '-3' is outside"),
    ([*GCT[:4], "ENSG00000222222.3\tOTHER\tinf\t4"], "gene", 5, "Liver 'inf' is outside"),
    ([*GCT[:4]], "gene", 2, "declares 2 rows but has 1"),
    ([GCT[0], "2\t3", *GCT[2:]], "gene", 3, "expected 3 distinct tissue columns"),
], ids=["version", "dimensions", "wrong-kind", "duplicate", "negative", "infinite",
        "row-count", "column-count"])
def test_a_malformed_matrix_loads_nothing_and_names_the_line(
    demo: DemoInstance, tmp_path: Path, lines: list[str], kind: str, line: int, fragment: str
) -> None:
    before = result_counts(demo)
    result = run(demo, "import-expression", str(write(tmp_path / "bad.gct", lines)),
                 "--kind", kind)
    assert result.exit_code == 1, result.output
    assert f"line {line}: " in result.output and fragment in result.output, result.output
    assert result_counts(demo) == before


def test_a_bad_line_after_batches_were_written_leaves_nothing_behind(
    demo: DemoInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("datasets.results.loading.PROGRESS_EVERY", 10_000)
    good = [changed(2, f"chr2_{1000 + n}_A_C_b38") for n in range(25_000)]
    before = result_counts(demo)
    result = run(demo, "import-eqtls", str(write(tmp_path / "big.txt", [
        DEMO_HEADER, *good, changed(6, "-1"), *good[:10]])))
    assert result.exit_code == 1
    assert "rows loaded" in result.output  # batches went in before the bad line was read
    assert "line 25002: pval_nominal '-1' is outside" in result.output
    assert result_counts(demo) == before


def test_the_report_lists_the_first_bad_lines_and_counts_the_rest(
    demo: DemoInstance, tmp_path: Path
) -> None:
    result = run(demo, "import-eqtls", str(write(tmp_path / "bad.txt", [
        DEMO_HEADER, *[changed(5, "0.9")] * 60])))
    assert result.exit_code == 1
    assert "has 60 problem(s)" in result.output and "... and 10 more" in result.output
    assert "line 51: " in result.output and "line 52: " not in result.output


@pytest.mark.parametrize("content, fragment", [
    (gzip.compress(("\n".join([DEMO_HEADER, *DEMO_ROWS * 50]) + "\n").encode())[:-30],
     "the gzip stream is corrupt or truncated"),
    ((DEMO_HEADER + "\n").encode() + b"\xff\xfe\x00\n", "line 2: the line is not UTF-8 text"),
], ids=["truncated-gzip", "not-utf8"])
def test_an_unreadable_file_loads_nothing(
    demo: DemoInstance, tmp_path: Path, content: bytes, fragment: str
) -> None:
    source = tmp_path / "unreadable.txt.gz"
    source.write_bytes(content)
    before = result_counts(demo)
    result = run(demo, "import-eqtls", str(source))
    assert result.exit_code == 1
    assert fragment in result.output, result.output
    assert result_counts(demo) == before
