"""GA4GH DRS 1.5 under /ga4gh/drs/v1, every answer validated against the spec's own schemas."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from audit.log.models import AuditEvent
from datasets.catalogue.models import DataFile, Tier
from tests.conftest import DemoInstance, issue_token
from tests.integration.audit_support import controlled_files, fetch, grant_access
from tests.openapi_support import assert_is_drs, assert_matches_drs_spec

DRS = "/ga4gh/drs/v1"


def open_file_id(demo: DemoInstance) -> int:
    with demo.app.extensions["custodian.session_factory"]() as session:
        found: int = session.scalars(select(DataFile.id).where(DataFile.tier == Tier.OPEN)
                                     .order_by(DataFile.id)).first()
        return found


def file_record(demo: DemoInstance, file_id: int) -> DataFile:
    with demo.app.extensions["custodian.session_factory"]() as session:
        found: DataFile | None = session.get(DataFile, file_id)
        assert found is not None
        return found


def last_event(demo: DemoInstance, action: str) -> AuditEvent:
    with demo.app.extensions["custodian.session_factory"]() as session:
        found: AuditEvent = session.scalars(select(AuditEvent).where(
            AuditEvent.action == action).order_by(AuditEvent.seq.desc())).first()
        return found


def scoped(demo: DemoInstance, client: FlaskClient, username: str, *scopes: str
           ) -> dict[str, str]:
    made = client.post("/api/v1/tokens", headers=issue_token(demo, username),
                       json={"scopes": list(scopes)})
    assert made.status_code == 201
    return {"Authorization": f"Bearer {made.get_json()['token']}"}


def assert_drs_error(response: Any, status: int, spec_path: str, method: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"msg", "status_code"} and body["status_code"] == status
    assert_matches_drs_spec(spec_path, method, status, body)
    message: str = body["msg"]
    return message


@pytest.fixture
def client(demo: DemoInstance) -> FlaskClient:
    return demo.app.test_client()


def test_service_info_matches_the_spec(demo: DemoInstance, client: FlaskClient) -> None:
    answer = client.get(f"{DRS}/service-info")
    assert answer.status_code == 200
    body = answer.get_json()
    assert_matches_drs_spec("/service-info", "get", 200, body)
    assert body["type"] == {"group": "org.ga4gh", "artifact": "drs", "version": "1.5.0"}
    assert body["maxBulkRequestLength"] == demo.settings.drs_max_bulk_request_length
    with demo.app.extensions["custodian.session_factory"]() as session:
        sizes = list(session.scalars(select(DataFile.size)))
    assert body["drs"] == {"maxBulkRequestLength": demo.settings.drs_max_bulk_request_length,
                           "objectCount": len(sizes), "totalObjectSize": sum(sizes)}
    assert_is_drs("DrsService", body)


def test_controlled_object_has_checksums_and_an_access_id(
    demo: DemoInstance, client: FlaskClient
) -> None:
    _, files = controlled_files(demo)
    record = file_record(demo, files[0])
    for answer in (client.get(f"{DRS}/objects/{files[0]}"),
                   client.post(f"{DRS}/objects/{files[0]}",
                               headers=issue_token(demo, "researcher"), json={"expand": False})):
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        assert_matches_drs_spec("/objects/{object_id}", "get", 200, body)
        host = demo.base_url.removeprefix("http://")
        assert body["id"] == str(files[0]) and body["self_uri"] == f"drs://{host}/{files[0]}"
        assert body["size"] == record.size and body["name"] == record.name
        assert {c["type"]: c["checksum"] for c in body["checksums"]} == {
            "sha-256": record.sha256, "md5": record.md5}
        [method] = body["access_methods"]
        assert method["access_id"] and "access_url" not in method
        assert method["available"] is True and "cloud" not in method  # local disk: no cloud
        assert method["authorizations"]["supported_types"] == ["BearerAuth"]


def test_open_object_carries_its_url_directly(demo: DemoInstance, client: FlaskClient) -> None:
    file_id = open_file_id(demo)
    body = client.get(f"{DRS}/objects/{file_id}").get_json()
    assert_matches_drs_spec("/objects/{object_id}", "get", 200, body)
    [method] = body["access_methods"]
    assert fetch(client, method["access_url"]["url"]) == 200
    assert last_event(demo, "url:issue").target_id == str(file_id)


def test_access_url_needs_a_live_grant_and_is_audited_like_the_api(
    demo: DemoInstance, client: FlaskClient
) -> None:
    _, files = controlled_files(demo)
    researcher = scoped(demo, client, "researcher", "download")
    access_id = client.get(f"{DRS}/objects/{files[0]}").get_json()[
        "access_methods"][0]["access_id"]
    path = f"{DRS}/objects/{files[0]}/access/{access_id}"
    spec_path = "/objects/{object_id}/access/{access_id}"
    message = assert_drs_error(client.get(path, headers=researcher), 403, spec_path, "get")
    assert "grant" in message
    refusal = last_event(demo, "url:refuse")
    assert refusal.outcome == "denied" and refusal.details["reason"] == "no_grant"
    assert refusal.actor_token_id is not None
    assert_drs_error(client.get(path), 401, spec_path, "get")

    grant_access(demo)
    for answer in (client.get(path, headers=researcher),
                   client.post(path, headers=researcher, json={})):
        assert answer.status_code == 200, answer.get_json()
        assert_matches_drs_spec(spec_path, "get", 200, answer.get_json())
        issued = last_event(demo, "url:issue")
        assert issued.target_id == str(files[0]) and issued.actor_subject == "researcher"
        assert issued.actor_token_id is not None
        assert fetch(client, answer.get_json()["url"]) == 200


def test_tokens_need_catalogue_for_objects_and_download_for_access(
    demo: DemoInstance, client: FlaskClient
) -> None:
    grant_access(demo)
    _, files = controlled_files(demo)
    catalogue = scoped(demo, client, "researcher", "catalogue")
    download = scoped(demo, client, "researcher", "download")
    assert client.get(f"{DRS}/objects/{files[0]}", headers=catalogue).status_code == 200
    message = assert_drs_error(client.get(f"{DRS}/objects/{files[0]}", headers=download), 403,
                               "/objects/{object_id}", "get")
    assert "'catalogue'" in message
    access = f"{DRS}/objects/{files[0]}/access/signed-url"
    message = assert_drs_error(client.get(access, headers=catalogue), 403,
                               "/objects/{object_id}/access/{access_id}", "get")
    assert "'download'" in message
    assert client.get(access, headers=download).status_code == 200
    bad = {"Authorization": "Bearer cus_not-a-token"}
    assert_drs_error(client.get(access, headers=bad), 401,
                     "/objects/{object_id}/access/{access_id}", "get")


def test_session_cookie_works_and_its_posts_need_csrf(demo: DemoInstance) -> None:
    from tests.integration.test_pages_and_health import signed_in_client

    grant_access(demo)
    _, files = controlled_files(demo)
    browser = signed_in_client(demo, "researcher")
    access = f"{DRS}/objects/{files[0]}/access/signed-url"
    assert browser.get(access).status_code == 200
    assert browser.post(access, json={}).status_code == 400
    assert browser.post(access, json={}, headers={"X-CSRF-Token": "known-token"}
                        ).status_code == 200


@pytest.mark.parametrize("object_id", ["0", "abc", "99999", "9" * 30, "1.0", "-1", "\u0661"])
def test_unknown_objects_are_404_in_the_spec_shape(client: FlaskClient, object_id: str) -> None:
    assert_drs_error(client.get(f"{DRS}/objects/{object_id}"), 404, "/objects/{object_id}",
                     "get")
    assert_drs_error(client.get(f"{DRS}/objects/{object_id}/access/signed-url"), 404,
                     "/objects/{object_id}/access/{access_id}", "get")


def test_unknown_access_id_is_404(demo: DemoInstance, client: FlaskClient) -> None:
    _, files = controlled_files(demo)
    headers = issue_token(demo, "researcher")
    assert_drs_error(client.get(f"{DRS}/objects/{files[0]}/access/ftp", headers=headers), 404,
                     "/objects/{object_id}/access/{access_id}", "get")


def test_passports_change_nothing_in_object_metadata(
    demo: DemoInstance, client: FlaskClient
) -> None:
    """Metadata is public; passports matter only for access (test_passport_consumer.py)."""
    _, files = controlled_files(demo)
    plain = client.get(f"{DRS}/objects/{files[0]}").get_json()
    with_passports = client.post(f"{DRS}/objects/{files[0]}",
                                 json={"passports": ["not.even.a-jwt"]})
    assert with_passports.status_code == 200 and with_passports.get_json() == plain
    assert_matches_drs_spec("/objects/{object_id}", "post", 200, with_passports.get_json())


def test_options_names_the_supported_auth_and_passport_issuers(
    demo: DemoInstance, client: FlaskClient
) -> None:
    _, files = controlled_files(demo)
    answer = client.open(f"{DRS}/objects/{files[0]}", method="OPTIONS")
    assert answer.status_code == 200
    body = answer.get_json()
    assert_matches_drs_spec("/objects/{object_id}", "options", 200, body)
    assert body == {"drs_object_id": str(files[0]), "supported_types": ["BearerAuth"],
                    "passport_auth_issuers": [], "bearer_auth_issuers": [demo.base_url]}
    open_body = client.open(f"{DRS}/objects/{open_file_id(demo)}", method="OPTIONS").get_json()
    assert open_body["supported_types"] == ["None", "BearerAuth"]
    assert_drs_error(client.open(f"{DRS}/objects/424242", method="OPTIONS"), 404,
                     "/objects/{object_id}", "options")
    bulk = client.open(f"{DRS}/objects", method="OPTIONS",
                       json={"bulk_object_ids": [str(files[0]), "424242"]})
    assert bulk.status_code == 200
    assert_matches_drs_spec("/objects", "options", 200, bulk.get_json())
    assert bulk.get_json()["summary"] == {"requested": 2, "resolved": 1, "unresolved": 1}


def test_bulk_objects_resolve_each_and_report_the_rest(
    demo: DemoInstance, client: FlaskClient
) -> None:
    _, files = controlled_files(demo)
    wanted = [str(files[0]), str(files[1]), "424242", "nope"]
    answer = client.post(f"{DRS}/objects", json={"bulk_object_ids": wanted})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert_matches_drs_spec("/objects", "post", 200, body)
    assert body["summary"] == {"requested": 4, "resolved": 2, "unresolved": 2}
    assert [o["id"] for o in body["resolved_drs_object"]] == wanted[:2]
    for drs_object in body["resolved_drs_object"]:
        assert_is_drs("DrsObject", drs_object)
    assert body["unresolved_drs_objects"] == [{"error_code": 404, "object_ids": wanted[2:]}]


def test_bulk_access_grants_what_it_may_and_audits_each_refusal(
    demo: DemoInstance, client: FlaskClient
) -> None:
    dataset_id, files = controlled_files(demo)
    headers = scoped(demo, client, "researcher", "download")
    body = {"bulk_object_access_ids": [
        {"bulk_object_id": str(files[0]), "bulk_access_ids": ["signed-url"]},
        {"bulk_object_id": str(open_file_id(demo)), "bulk_access_ids": ["signed-url"]},
        {"bulk_object_id": "424242", "bulk_access_ids": ["signed-url"]},
    ]}
    answer = client.post(f"{DRS}/objects/access", headers=headers, json=body)
    assert answer.status_code == 200, answer.get_json()
    result = answer.get_json()
    assert_matches_drs_spec("/objects/access", "post", 200, result)
    assert result["summary"] == {"requested": 3, "resolved": 1, "unresolved": 2}
    [granted] = result["resolved_drs_object_access_urls"]
    assert granted["drs_object_id"] == str(open_file_id(demo))
    assert fetch(client, granted["url"]) == 200
    assert sorted((u["error_code"], u["object_ids"][0])
                  for u in result["unresolved_drs_objects"]) == [(403, str(files[0])),
                                                                 (404, "424242")]
    refusal = last_event(demo, "url:refuse")
    assert refusal.outcome == "denied" and refusal.target_id == str(files[0])
    assert refusal.details["dataset_id"] == dataset_id and refusal.actor_token_id is not None


def test_bulk_requests_beyond_the_maximum_are_413(demo: DemoInstance, client: FlaskClient
                                                  ) -> None:
    limit = demo.settings.drs_max_bulk_request_length
    too_many = [str(n) for n in range(1, limit + 2)]
    assert_drs_error(client.post(f"{DRS}/objects", json={"bulk_object_ids": too_many}), 413,
                     "/objects", "post")
    headers = issue_token(demo, "researcher")
    pairs = {"bulk_object_access_ids": [{"bulk_object_id": "1",
                                         "bulk_access_ids": ["signed-url"] * (limit + 1)}]}
    before = last_event(demo, "url:issue")
    assert_drs_error(client.post(f"{DRS}/objects/access", headers=headers, json=pairs), 413,
                     "/objects/access", "post")
    assert last_event(demo, "url:issue") == before


@pytest.mark.parametrize("body", [
    {}, {"bulk_object_ids": []}, {"bulk_object_ids": "1"}, {"bulk_object_ids": [1]},
    {"bulk_object_ids": ["1"], "extra": True}, [], "x", None,
])
def test_bad_bulk_bodies_are_400(client: FlaskClient, body: Any) -> None:
    assert_drs_error(client.post(f"{DRS}/objects", json=body), 400, "/objects", "post")


def test_bad_expand_and_bad_json_are_400(demo: DemoInstance, client: FlaskClient) -> None:
    _, files = controlled_files(demo)
    assert_drs_error(client.get(f"{DRS}/objects/{files[0]}?expand=maybe"), 400,
                     "/objects/{object_id}", "get")
    headers = {**issue_token(demo, "researcher"), "Content-Type": "application/json"}
    assert_drs_error(client.post(f"{DRS}/objects/{files[0]}", headers=headers, data="{"), 400,
                     "/objects/{object_id}", "post")
