"""Fuzzing from the published documents, with a fixed budget: schemathesis generates cases
from our OpenAPI document and from the GA4GH DRS 1.4 specification, as a researcher and as
an admin, against gunicorn on PostgreSQL. No answer may be a server error, none may differ
from the schema the document gives for it; afterwards the audit chain still verifies.

``positive_data_acceptance`` is left out: some rules cannot be said in OpenAPI (one of gene,
variant or tissue; an id that exists; a gene symbol). ``ignored_auth`` too: without a
session, CSRF answers before authentication can (400, not 401), which it counts as a miss;
tests/integration/test_authorization_matrix.py checks every route's authorisation instead.
``CUSTODIAN_FUZZ_EXAMPLES`` raises the budget for a longer run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from audit.integrity.chain_check import verify_chain
from tests.gunicorn_service import Service, gunicorn_demo
from tests.openapi_support import DRS_DOCUMENT

EXAMPLES = os.environ.get("CUSTODIAN_FUZZ_EXAMPLES", "12")
CHECKS = ("not_a_server_error,response_schema_conformance,status_code_conformance,"
          "content_type_conformance,response_headers_conformance,negative_data_rejection")
# The DRS spec documents few error statuses and its own error body: only what it defines.
DRS_CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"
BUDGET_SECONDS = 300


@pytest.fixture(scope="module")
def service(postgres_server: str, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Service]:
    with gunicorn_demo(postgres_server, tmp_path_factory.mktemp("fuzz"), workers=2,
                       options=("--threads", "4"),
                       env={"CUSTODIAN_RATE_LIMITS": "false"}) as running:
        yield running


# schemathesis's coverage phase recurses deeply, and hypothesis then parses a lambda's
# source there; CPython 3.11 raises a spurious SystemError when an AST is built near the
# recursion limit (python/cpython#106905). A higher limit in the fuzzer's own process
# keeps the tool from crashing on itself; the service under test is not touched.
LAUNCH_SCHEMATHESIS = ("import sys; sys.setrecursionlimit(8000); "
                       "from schemathesis.cli import schemathesis; "
                       "sys.argv[0] = 'st'; sys.exit(schemathesis())")


# The limit makes that crash rare, not impossible (CPython fixed it in 3.11.8: its failure
# path forgot to undo its depth count). A fuzzer that crashed on itself found nothing
# about the service, so it is run once more; a second crash fails the test.
TOOL_CRASH = "AST constructor recursion depth mismatch"


def schemathesis(*arguments: str) -> str:
    for _ in range(2):
        finished = subprocess.run(
            [sys.executable, "-c", LAUNCH_SCHEMATHESIS, "run", *arguments,
             "--max-examples", EXAMPLES, "--seed", "16", "--workers", "2", "--no-color",
             "--request-timeout", "30"],
            capture_output=True, text=True, timeout=BUDGET_SECONDS, check=False)
        output = finished.stdout + finished.stderr
        if finished.returncode == 0 or TOOL_CRASH not in output:
            break
    assert finished.returncode == 0, output[-6000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", output)
    assert generated is not None and int(generated.group(1)) >= 100, output[-3000:]
    return output


@pytest.mark.parametrize("persona", ["researcher", "admin"])
def test_the_api_document_fuzzes_clean(service: Service, persona: str) -> None:
    header = service.token(persona)["Authorization"]
    schemathesis(f"{service.url}/api/v1/openapi.json", "-H", f"Authorization: {header}",
                 "--checks", CHECKS)
    assert_chain_verifies(service)


@pytest.mark.parametrize("persona", ["researcher", "admin"])
def test_the_drs_paths_fuzz_clean(service: Service, persona: str) -> None:
    header = service.token(persona)["Authorization"]
    schemathesis(str(DRS_DOCUMENT), "--url", f"{service.url}/ga4gh/drs/v1",
                 "-H", f"Authorization: {header}", "--checks", DRS_CHECKS)


def assert_chain_verifies(service: Service) -> None:
    with service.app() as app, app.extensions["custodian.session_factory"]() as session:
        report = verify_chain(session)
    assert report.ok, report.problem
    server_errors = [line for line in service.log.read_text().splitlines()
                     if "unhandled error" in line or "Traceback" in line]
    assert server_errors == []
