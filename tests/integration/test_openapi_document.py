"""The generated OpenAPI document of /api/v1: valid, complete, and true to the live answers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sqlalchemy import update

from access.identity.models import User
from tests.conftest import DemoInstance, issue_token
from tests.integration.audit_support import controlled_files
from tests.integration.test_api_bad_input import GOOD_STATEMENT
from tests.openapi_support import assert_matches_document, documented_operation

ARGUMENT = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")


def undocumented_rules(app: Flask, document: dict[str, Any]) -> list[str]:
    """Every (method, rule) under /api/v1 that the document does not describe."""
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        # The rule as a pattern: a documented path matches it whether it keeps an argument
        # as {name} or spells out one value of it (an action's own path).
        pattern = re.compile(
            "^"
            + ARGUMENT.sub(
                "[^/]+",
                re.escape(rule.rule)
                .replace(r"\<", "<")
                .replace(r"\>", ">")
                .replace(r"\(", "(")
                .replace(r"\)", ")")
                .replace(r"\:", ":"),
            )
            + "$"
        )
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if not any(
                pattern.match(path) and method.lower() in operations
                for path, operations in document["paths"].items()
            ):
                missing.append(f"{method} {rule.rule}")
    return missing


@pytest.fixture
def client(demo: DemoInstance) -> FlaskClient:
    return demo.app.test_client()


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    found: dict[str, Any] = answer.get_json()
    return found


def test_document_is_valid_openapi_3(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.")


def test_every_api_rule_is_documented(demo: DemoInstance, document: dict[str, Any]) -> None:
    assert undocumented_rules(demo.app, document) == []
    # Each request action is its own path with its own body.
    from access.requests.actions import ACTIONS

    for action in ACTIONS:
        assert "post" in document["paths"][f"/api/v1/requests/{{request_id}}/{action}"]
    approve = document["paths"]["/api/v1/requests/{request_id}/approve"]["post"]
    body_ref = approve["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref == "#/components/schemas/ApproveIn"
    assert set(document["components"]["schemas"]["ApproveIn"]["required"]) == {"reason"}


def test_a_new_route_without_a_declaration_is_caught(demo: DemoInstance) -> None:
    from core.web.api_docs import build_document

    app = demo.app
    app.add_url_rule(
        "/api/v1/undocumented/<int:thing_id>",
        "undocumented",
        lambda thing_id: jsonify({}),
        methods=["GET"],
    )
    fresh = build_document(app, prefix="/api/v1/", title="t", version="1", server_url=demo.base_url)
    assert undocumented_rules(app, fresh) == ["GET /api/v1/undocumented/<int:thing_id>"]


def test_token_scopes_are_in_the_document(document: dict[str, Any]) -> None:
    operation = document["paths"]["/api/v1/files/{file_id}/url"]["get"]
    assert operation["x-token-scope"] == "download"
    assert "download" in operation["description"]
    assert {"bearerToken": []} in operation["security"]
    assert document["paths"]["/api/v1/audit/events"]["get"]["x-token-scope"] == "audit-read"


def test_live_answers_match_the_document(
    demo: DemoInstance, client: FlaskClient, document: dict[str, Any]
) -> None:
    researcher = issue_token(demo, "researcher")
    chair = issue_token(demo, "dac-chair")
    auditor = issue_token(demo, "auditor")
    dataset_id, files = controlled_files(demo)
    checked: set[tuple[str, str, int]] = set()

    def call(
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: Any = None,
        expected: int = 200,
    ) -> Any:
        answer = client.open(path, method=method, headers=headers or {}, json=body)
        assert answer.status_code == expected, (path, answer.get_data(as_text=True))
        template = documented_operation(document, method, path.split("?")[0])
        assert template is not None, f"{method} {path} is not documented"
        checked.add((method, template, answer.status_code))
        if answer.data and answer.mimetype != "application/json":  # a download
            content = document["paths"][template][method.lower()]["responses"][
                str(answer.status_code)
            ]["content"]
            assert answer.mimetype in content, (path, answer.mimetype)
            return None
        payload = answer.get_json() if answer.data else None
        assert_matches_document(document, method, path.split("?")[0], answer.status_code, payload)
        return payload

    call("GET", "/api/v1/users/me", researcher)
    made = call("POST", "/api/v1/tokens", researcher, {"name": "doc", "scopes": ["catalogue"]}, 201)
    call("GET", "/api/v1/tokens", researcher)
    call("DELETE", f"/api/v1/tokens/{made['id']}", researcher, expected=204)
    call("DELETE", f"/api/v1/tokens/{made['id']}", researcher, expected=409)
    call("POST", "/api/v1/tokens", researcher, {"days": 9999}, 400)
    call("DELETE", "/api/v1/users/me/sessions", researcher, expected=204)
    call("DELETE", "/api/v1/users/424242/sessions", issue_token(demo, "admin"), expected=404)
    call("DELETE", "/api/v1/users/1/sessions", researcher, expected=403)
    call("GET", "/api/v1/datasets")
    call("GET", f"/api/v1/datasets/{dataset_id}")
    call("GET", f"/api/v1/datasets/{dataset_id}/manifest")
    call("GET", "/api/v1/datasets/424242", expected=404)
    call("GET", f"/api/v1/files/{files[0]}/url", expected=401)
    call("GET", f"/api/v1/files/{files[0]}/url", researcher, expected=403)
    official, member = issue_token(demo, "signing-official"), issue_token(demo, "dac-member")
    admin, collaborator = issue_token(demo, "admin"), issue_token(demo, "researcher2")

    def request_path(request_id: int, action: str = "") -> str:
        return f"/api/v1/requests/{request_id}" + (f"/{action}" if action else "")

    def filed(title: str, **extra: Any) -> int:
        made = call(
            "POST",
            "/api/v1/requests",
            researcher,
            {
                "title": title,
                "research_use_statement": GOOD_STATEMENT,
                "dataset_ids": [dataset_id],
                **extra,
            },
            201,
        )
        request_id: int = made["id"]
        return request_id

    def answer_all(request_id: int) -> None:
        questions = call("GET", request_path(request_id), researcher)["questions"]
        call(
            "POST",
            request_path(request_id, "answer"),
            researcher,
            {"answers": {str(q["id"]): "Answered." for q in questions if q["answer"] is None}},
        )

    main = filed("Documented", collaborator_emails=["researcher2@demo.example"])
    call("GET", "/api/v1/requests", researcher)
    call("POST", request_path(main, "revise"), researcher, {"title": "Documented, revised"})
    call("POST", request_path(main, "submit"), researcher)
    call("POST", request_path(main, "decline"), official, {"reason": "Add the IRB letter."})
    answer_all(main)
    call("POST", request_path(main, "submit"), researcher)
    call("POST", request_path(main, "endorse"), official, {"comment": "Vouched for."})
    call("GET", "/api/v1/requests?scope=review", chair)
    call("POST", request_path(main, "vote"), member, {"vote": "approve", "rationale": "Fine."})
    call("POST", request_path(main, "return"), chair, {"questions": ["Which tissues?"]})
    answer_all(main)
    call("POST", request_path(main, "submit"), researcher)
    call("POST", request_path(main, "endorse"), official)
    call("POST", request_path(main, "declare-conflict"), member, {"reason": "A co-author."})
    call("POST", request_path(main, "approve"), chair, {"reason": "ok", "days": 0}, 400)
    call("POST", request_path(main, "approve"), chair, {"reason": "ok", "days": 30})
    call("POST", request_path(main, "accept"), collaborator)
    agreement = call("GET", f"/api/v1/datasets/{dataset_id}/agreement", researcher)
    accept = f"/api/v1/datasets/{dataset_id}/agreement/accept"
    call("POST", accept, researcher, {"version": agreement["version"], "sha256": "0" * 64}, 400)
    call(
        "POST", accept, researcher, {"version": agreement["version"], "sha256": agreement["sha256"]}
    )
    call("GET", f"/api/v1/files/{files[0]}/url", researcher)
    call("POST", f"/api/v1/files/{files[0]}/url", researcher, {"passports": ["not.a.visa"]}, 403)
    call("POST", f"/api/v1/files/{files[0]}/url", researcher, {"passports": []}, 400)
    call("GET", "/api/v1/users/me/visas", researcher)
    call(
        "POST",
        request_path(main, "renew"),
        researcher,
        {"progress_report": "Half of the tissues are analysed."},
        201,
    )
    call(
        "POST",
        request_path(main, "close"),
        researcher,
        {"copies_destroyed": True, "statement": "Deleted."},
    )
    call("POST", request_path(filed("Withdrawn"), "withdraw"), researcher)
    for title, ending, body in (
        ("Rejected", "reject", {"reason": "no"}),
        ("Revoked", "approve", {"reason": "ok", "days": 5}),
    ):
        other = filed(title)
        call("POST", request_path(other, "submit"), researcher)
        call("POST", request_path(other, "endorse"), official)
        call("POST", request_path(other, ending), chair, body)
    call("POST", request_path(other, "revoke"), chair, {"reason": "Data shared outside."})
    call("GET", request_path(424242), researcher, expected=404)

    committees = call("GET", "/api/v1/committees", chair)["committees"]
    committee = committees[0]["id"]
    call("GET", f"/api/v1/committees/{committee}", chair)
    call("GET", f"/api/v1/committees/{committee}/queue?state=approved,closed", chair)
    made = call("POST", "/api/v1/committees", admin, {"name": "Second DAC"}, 201)
    call("PATCH", f"/api/v1/committees/{made['id']}", admin, {"description": "Cancer data."})
    users = {u["subject"]: u for u in call("GET", "/api/v1/users", admin)["users"]}
    member_id = users["dac-member"]["id"]
    with demo.app.extensions["custodian.session_factory"].begin() as session:
        # Identity providers need not release an email address.
        session.execute(update(User).where(User.id == member_id).values(email=None))
    call(
        "POST",
        f"/api/v1/committees/{made['id']}/members",
        admin,
        {"user_id": member_id, "chair": False},
    )
    assert call("GET", f"/api/v1/committees/{made['id']}", admin)["members"] == [
        {"user_id": member_id, "name": users["dac-member"]["name"], "email": None, "chair": False}
    ]
    call("DELETE", f"/api/v1/committees/{made['id']}/members/{member_id}", admin, expected=204)
    call("POST", "/api/v1/committees", researcher, {"name": "Mine"}, 403)
    given = call("POST", f"/api/v1/users/{member_id}/roles", admin, {"role": "auditor"}, 201)
    [auditor_role] = [r for r in given["roles"] if r["role"] == "auditor"]
    call("DELETE", f"/api/v1/users/{member_id}/roles/{auditor_role['id']}", admin)
    invited = call(
        "POST",
        "/api/v1/users",
        admin,
        {"email": "invitee@example.org", "committees": [{"committee_id": made["id"]}]},
        201,
    )
    call("POST", "/api/v1/users", admin, {"email": "invitee@example.org"}, 409)
    call("POST", "/api/v1/users", admin, {"email": "nope"}, 400)
    call("DELETE", f"/api/v1/users/{invited['id']}/invitation", admin, expected=204)
    call("DELETE", f"/api/v1/users/{invited['id']}/invitation", admin, expected=409)
    institution = call(
        "POST",
        "/api/v1/institutions",
        admin,
        {"name": "Documented Institute", "email_domains": ["documented.example"]},
        201,
    )
    call("POST", "/api/v1/institutions", admin, {"name": ""}, 400)
    call("GET", "/api/v1/institutions", researcher)
    call(
        "PATCH",
        f"/api/v1/institutions/{institution['id']}",
        admin,
        {"name": "Documented Institute of Genomics"},
    )
    call("PATCH", "/api/v1/institutions/424242", admin, {"name": "Nowhere"}, 404)
    call("PATCH", f"/api/v1/users/{member_id}", admin, {"institution_id": institution["id"]})
    call("PATCH", f"/api/v1/users/{member_id}", admin, {"institution_id": "one"}, 400)
    call(
        "POST",
        f"/api/v1/datasets/{dataset_id}/agreements",
        researcher,
        {"text": "Version two of the terms, for the record."},
        403,
    )
    call(
        "POST",
        f"/api/v1/datasets/{dataset_id}/agreements",
        admin,
        {"text": "Version two of the terms, for the record."},
        201,
    )
    study = call("POST", "/api/v1/studies", admin, {"accession": "phs000555", "title": "S"}, 201)
    call("PATCH", f"/api/v1/studies/{study['id']}", admin, {"description": "Documented."})
    call("GET", "/api/v1/studies")
    consent_group = call(
        "POST",
        "/api/v1/datasets",
        admin,
        {
            "study_id": study["id"],
            "accession": "phs000555.c1",
            "name": "HMB",
            "tier": "open",
            "duo_codes": ["HMB"],
        },
        201,
    )
    call("PATCH", f"/api/v1/datasets/{consent_group['id']}", admin, {"duo_codes": ["XYZ"]}, 400)
    call("PATCH", f"/api/v1/datasets/{consent_group['id']}", admin, {"name": "HMB-IRB"})
    prefix = {"prefix": "phs000424/", "dry_run": True}
    plan = call("POST", f"/api/v1/datasets/{dataset_id}/files/prefix", admin, prefix)
    assert plan["files"] == [] and plan["skipped"]  # the demo's files are all registered
    call(
        "POST",
        f"/api/v1/datasets/{dataset_id}/files",
        admin,
        {"key": "none/x.tsv", "kind": "clinical", "size": 1, "sha256": "0" * 64, "md5": "0" * 32},
        400,
    )
    call("PATCH", f"/api/v1/files/{files[-1]}", admin, {"description": "Documented."})
    call("DELETE", f"/api/v1/files/{files[-1]}", admin, expected=204)
    call("GET", f"/api/v1/datasets/{dataset_id}")
    call("GET", "/api/v1/eqtls?gene=ALB&limit=5")
    call("GET", "/api/v1/expression/genes/ALB")
    call("GET", "/api/v1/expression/genes/ALB/isoforms")
    call("GET", "/api/v1/expression/genes/NOSUCHGENE", expected=404)
    call("GET", "/api/v1/genes/suggestions?q=al&limit=3")
    call("GET", "/api/v1/genes/suggestions?q=a%20b", expected=400)
    events = call("GET", "/api/v1/audit/events?limit=5", auditor)
    seq = events["events"][0]["seq"]
    call("GET", f"/api/v1/audit/events/{seq}", auditor)
    call("GET", "/api/v1/audit/events", researcher, expected=403)
    call("GET", f"/api/v1/audit/reports/dataset/{dataset_id}", auditor)
    call("GET", "/api/v1/audit/reports/user/1", auditor)
    call("GET", "/api/v1/audit/reports/downloads", auditor)
    call("GET", "/api/v1/audit/alerts", auditor)
    call("GET", "/api/v1/audit/public-key", auditor)
    assert demo.app.test_cli_runner().invoke(args=["audit", "checkpoint"]).exit_code == 0
    checkpoints = call("GET", "/api/v1/audit/checkpoints", auditor)
    size = checkpoints["checkpoints"][0]["tree_size"]
    call("GET", f"/api/v1/audit/events/1/proof?tree_size={size}", auditor)
    call("GET", f"/api/v1/audit/consistency?from={size}&to={size}", auditor)
    call("GET", "/api/v1/audit/events/export?format=csv", auditor)
    call("GET", "/api/v1/audit/export", auditor)
    call("GET", "/api/v1/eqtls?gene=ALB&format=tsv")
    call("GET", "/api/v1/openapi.json")
    # Every documented operation was exercised at least once.
    exercised = {(method, template) for method, template, _ in checked}
    documented = {
        (method.upper(), template)
        for template, operations in document["paths"].items()
        for method in operations
    }
    assert documented - exercised == set()


def test_docs_page_is_served_from_here_under_the_csp(client: FlaskClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all(body.strip() == "" for _, body in scripts)  # no inline script
    for asset in re.findall(r'(?:src|href)="(/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset
    assert "SwaggerUIBundle" in client.get("/static/api-docs.js").get_data(as_text=True)
    assert "openapi.json" in html


def test_the_document_states_the_limits_the_code_enforces(
    demo: DemoInstance, document: dict[str, Any]
) -> None:
    """What a fuzzer needs to aim at the edges: required bodies, the settings' maximum URL
    lifetime, at least one field for a partial update, bounded path ids."""
    paths = document["paths"]
    assert paths["/api/v1/requests"]["post"]["requestBody"]["required"] is True
    assert paths["/api/v1/requests/{request_id}/approve"]["post"]["requestBody"]["required"]
    assert not paths["/api/v1/requests/{request_id}/submit"]["post"]["requestBody"]["required"]
    patch = paths["/api/v1/committees/{committee_id}"]["patch"]["requestBody"]
    assert patch["content"]["application/json"]["schema"]["minProperties"] == 1
    query = paths["/api/v1/files/{file_id}/url"]["get"]["parameters"]
    expires_in = next(p for p in query if p["name"] == "expires_in")
    assert expires_in["schema"]["maximum"] == demo.settings.signed_url_max_seconds
    file_id = next(p for p in query if p["name"] == "file_id")
    assert file_id["schema"]["maximum"] == 2**63 - 1
    audit = paths["/api/v1/audit/events"]["get"]["parameters"]
    subject = next(p for p in audit if p["name"] == "subject")["schema"]
    assert {"type": "string", "maxLength": 0} in subject["anyOf"]  # empty means any
