"""Bad input to the open-results API and pages: a 400 or 404 that says what is wrong, in the one
error shape (or a friendly page), and nothing written."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import DemoInstance
from tests.integration.open_results_support import result_counts
from tests.integration.test_api_bad_input import assert_error_shape


def cursor_of(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_QUERIES = [
    ("/api/v1/eqtls", 400, "_schema"),
    ("/api/v1/eqtls?max_pval=0.01", 400, "_schema"),
    ("/api/v1/eqtls?gene=NOSUCHGENE", 404, None),
    ("/api/v1/eqtls?gene=ENSG00000000001", 404, None),
    ("/api/v1/eqtls?gene=%27%3B%20drop%20table", 400, "gene"),
    ("/api/v1/eqtls?gene=", 400, "gene"),
    ("/api/v1/eqtls?tissue=Spleen", 404, "tissues"),
    ("/api/v1/eqtls?variant=rs12345", 400, "variant"),
    ("/api/v1/eqtls?variant=chr1_123_A", 400, "variant"),
    ("/api/v1/eqtls?variant=chr1:0", 400, "variant"),
    ("/api/v1/eqtls?variant=chr1:99999999999", 400, "variant"),
    ("/api/v1/eqtls?variant=chrQ:100", 400, "variant"),
    ("/api/v1/eqtls?tissue=Liver&limit=0", 400, "limit"),
    ("/api/v1/eqtls?tissue=Liver&limit=1001", 400, "limit"),
    ("/api/v1/eqtls?tissue=Liver&limit=1000000000", 400, "limit"),
    ("/api/v1/eqtls?tissue=Liver&limit=-5", 400, "limit"),
    ("/api/v1/eqtls?tissue=Liver&limit=ten", 400, "limit"),
    ("/api/v1/eqtls?tissue=Liver&cursor=garbage!", 400, "cursor"),
    ("/api/v1/eqtls?tissue=Liver&cursor=" + cursor_of(b"[0.1, \"x\"]"), 400, "cursor"),
    ("/api/v1/eqtls?tissue=Liver&cursor=" + cursor_of(b"[NaN, 5]"), 400, "cursor"),
    ("/api/v1/eqtls?tissue=Liver&cursor=" + cursor_of(b"[0.1, -5]"), 400, "cursor"),
    ("/api/v1/eqtls?tissue=Liver&cursor=" + cursor_of(b"{\"a\": 1}"), 400, "cursor"),
    ("/api/v1/eqtls?tissue=Liver&cursor=" + cursor_of(b"\xff\xfe"), 400, "cursor"),
    ("/api/v1/eqtls?tissue=Liver&max_pval=2", 400, "max_pval"),
    ("/api/v1/eqtls?tissue=Liver&max_pval=nan", 400, "max_pval"),
    ("/api/v1/eqtls?tissue=Liver&max_qval=-1", 400, "max_qval"),
    ("/api/v1/eqtls?tissue=Liver&format=xml", 400, "format"),
    ("/api/v1/eqtls?tissue=Liver&format=tsv&limit=10", 400, "format"),
    ("/api/v1/eqtls?tissue=Liver&colour=blue", 400, "colour"),
    ("/api/v1/expression/genes/NOSUCHGENE", 404, None),
    ("/api/v1/expression/genes/NOSUCHGENE/isoforms", 404, None),
    ("/api/v1/expression/genes/ALB?format=xls", 400, "format"),
    ("/api/v1/expression/genes/%3Cscript%3E", 400, "gene"),
    ("/api/v1/genes/suggestions", 400, "q"),
    ("/api/v1/genes/suggestions?q=", 400, "q"),
    ("/api/v1/genes/suggestions?q=%25", 400, "q"),
    ("/api/v1/genes/suggestions?q=AL%20B", 400, "q"),
    ("/api/v1/genes/suggestions?q=" + "A" * 65, 400, "q"),
    ("/api/v1/genes/suggestions?q=AL&limit=21", 400, "limit"),
    ("/api/v1/genes/suggestions?q=AL&limit=0", 400, "limit"),
    ("/api/v1/genes/suggestions?q=AL%0A", 400, "q"),
]


@pytest.mark.parametrize("url, status, field", BAD_QUERIES)
def test_bad_query_gets_a_clear_error_and_writes_nothing(
    demo: DemoInstance, url: str, status: int, field: str | None
) -> None:
    before = result_counts(demo)
    response = demo.app.test_client().get(url)
    error = assert_error_shape(response, status)
    assert error["code"] == ("not_found" if status == 404 else "invalid_input")
    if field is not None:
        assert field in error["details"], error
    assert result_counts(demo) == before


def test_unknown_gene_names_itself_in_the_message(demo: DemoInstance) -> None:
    error = demo.app.test_client().get("/api/v1/eqtls?gene=NOSUCHGENE").get_json()["error"]
    assert error["message"] == "No gene 'NOSUCHGENE' in the open results."


def test_unknown_tissue_lists_the_tissues_there_are(demo: DemoInstance) -> None:
    error = demo.app.test_client().get("/api/v1/eqtls?tissue=liver").get_json()["error"]
    assert "Liver" in error["details"]["tissues"]


@pytest.mark.parametrize("path, status", [
    ("/results/genes/NOSUCHGENE", 404),
    ("/results/variants/rs12345", 400),
    ("/results/tissues/Spleen", 404),
    ("/results/genes/ALB?sort=colour", 400),
    ("/results/genes/ALB?order=sideways", 400),
])
def test_bad_page_requests_get_a_friendly_page(
    demo: DemoInstance, path: str, status: int
) -> None:
    response = demo.app.test_client().get(path)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_search_that_finds_nothing_says_so(demo: DemoInstance) -> None:
    response = demo.app.test_client().get("/results?q=NOSUCHGENE")
    assert response.status_code == 404
    assert "No gene &#39;NOSUCHGENE&#39; in the open results." in response.get_data(as_text=True)
