"""The authorisation matrix: every rule of the URL map, by every role, against the expected
allow or deny. A route added without an entry here fails
``test_every_route_has_an_entry``, naming it: adding one is one line in ``MATRIX``.

Each role signs in with a browser session (POSTs carry the CSRF token). *Deny* is 401, 403,
a redirect to sign-in, or (for ``hidden`` entries, where ids reveal nothing) 404; anything
else passed authorisation, even a 400 or 409 that follows it. Roles that are denied run
first, so an allowed one that changes something changes it last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from access.identity.models import RoleAssignment, User
from tests import factories
from tests.conftest import DemoInstance
from tests.integration.audit_support import controlled_files
from tests.integration.test_pages_and_health import signed_in_client

ANON, R, R2, SO, SO2 = "anonymous", "researcher", "researcher2", "signing-official", "so-other"
M, M2, CH, AU, AD = "dac-member", "member-other", "dac-chair", "auditor", "admin"
ROLES = (ANON, R, R2, SO, SO2, M, M2, CH, AU, AD)
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {ANON}
NOBODY: frozenset[str] = frozenset()
ADMIN = frozenset({AD})
AUDIT = frozenset({AU, AD})
COMMITTEE = frozenset({M, CH, AU, AD})  # its queue: members, and admins and auditors
SEES_REQUEST = frozenset({R, SO, AU, AD})
STATEMENT = "A research-use statement that is long enough to pass validation."


@dataclass(frozen=True)
class Ids:
    request: int
    dataset: int
    file: int
    user: int
    assignment: int
    token: int


@dataclass(frozen=True)
class Entry:
    method: str
    path: Callable[[Ids, str], str]
    allowed: frozenset[str]
    body: Callable[[str], Any] | None = None
    form: bool = False
    hidden: bool = False  # a denied 404 (the object is not shown to them)
    # For answers that refuse inside a 200 (DRS bulk access lists what it could not do).
    refused_in_body: Callable[[Any], bool] | None = None
    # Calls the identity provider, which this test does not serve: 502 is its answer.
    upstream: bool = False


def at(template: str) -> Callable[[Ids, str], str]:
    return lambda ids, role: template.format(ids=ids, role=role)


def json(body: Any) -> Callable[[str], Any]:
    return lambda role: body


def invitee(role: str) -> dict[str, str]:
    return {"email": f"invitee-{role}@example.org"}


def committee_named(role: str) -> dict[str, str]:
    return {"name": f"Committee of {role}"}


MATRIX: dict[str, Entry] = {
    "GET /": Entry("GET", at("/"), EVERYONE),
    "GET /.well-known/jwks.json": Entry("GET", at("/.well-known/jwks.json"), EVERYONE),
    "GET /admin/committees": Entry("GET", at("/admin/committees"), ADMIN),
    "POST /admin/committees": Entry(
        "POST", at("/admin/committees"), ADMIN, committee_named, form=True
    ),
    "GET /admin/committees/<int:committee_id>": Entry("GET", at("/admin/committees/1"), ADMIN),
    "POST /admin/committees/<int:committee_id>": Entry(
        "POST", at("/admin/committees/1"), ADMIN, json({"description": "x"}), form=True
    ),
    "POST /admin/committees/<int:committee_id>/members": Entry(
        "POST", at("/admin/committees/1/members"), ADMIN, json({"user_id": "1"}), form=True
    ),
    "POST /admin/committees/<int:committee_id>/members/<int:user_id>/remove": Entry(
        "POST", at("/admin/committees/1/members/{ids.user}/remove"), ADMIN, json({}), form=True
    ),
    "GET /admin/catalogue": Entry("GET", at("/admin/catalogue"), ADMIN),
    "POST /admin/manifest": Entry("POST", at("/admin/manifest"), ADMIN, json({}), form=True),
    "POST /admin/studies": Entry(
        "POST",
        at("/admin/studies"),
        ADMIN,
        lambda role: {"accession": f"p-{role}", "title": "A study"},
        form=True,
    ),
    "POST /admin/studies/<int:study_id>": Entry(
        "POST", at("/admin/studies/1"), ADMIN, json({"title": "Renamed"}), form=True
    ),
    "POST /admin/datasets": Entry("POST", at("/admin/datasets"), ADMIN, json({}), form=True),
    "GET /admin/datasets/<int:dataset_id>": Entry(
        "GET", at("/admin/datasets/{ids.dataset}"), ADMIN
    ),
    "POST /admin/datasets/<int:dataset_id>": Entry(
        "POST", at("/admin/datasets/{ids.dataset}"), ADMIN, json({"name": "x"}), form=True
    ),
    "POST /admin/datasets/<int:dataset_id>/files": Entry(
        "POST", at("/admin/datasets/{ids.dataset}/files"), ADMIN, json({}), form=True
    ),
    "POST /admin/datasets/<int:dataset_id>/files/prefix": Entry(
        "POST",
        at("/admin/datasets/{ids.dataset}/files/prefix"),
        ADMIN,
        json({"prefix": "none/", "dry_run": "on"}),
        form=True,
    ),
    "POST /admin/files/<int:file_id>": Entry(
        "POST", at("/admin/files/{ids.file}"), ADMIN, json({"description": "x"}), form=True
    ),
    "POST /admin/files/<int:file_id>/retire": Entry(
        "POST", at("/admin/files/{ids.file}/retire"), ADMIN, json({}), form=True
    ),
    "GET /admin/requests": Entry("GET", at("/admin/requests"), ADMIN),
    "GET /admin/users": Entry("GET", at("/admin/users"), ADMIN),
    "POST /admin/users/<int:user_id>/institution": Entry(
        "POST", at("/admin/users/{ids.user}/institution"), ADMIN, json({"institution_id": ""}),
        form=True,
    ),
    "GET /admin/institutions": Entry("GET", at("/admin/institutions"), ADMIN),
    "POST /admin/institutions": Entry(
        "POST", at("/admin/institutions"), ADMIN, lambda role: {"name": f"Page {role}"},
        form=True,
    ),
    "POST /admin/institutions/<int:institution_id>": Entry(
        "POST", at("/admin/institutions/1"), ADMIN, json({"email_domains": ""}), form=True
    ),
    "POST /admin/users": Entry("POST", at("/admin/users"), ADMIN, invitee, form=True),
    "POST /admin/users/<int:user_id>/withdraw": Entry(
        "POST", at("/admin/users/{ids.user}/withdraw"), ADMIN, json({}), form=True
    ),
    "POST /admin/users/<int:user_id>/roles": Entry(
        "POST", at("/admin/users/{ids.user}/roles"), ADMIN, json({"role": "auditor"}), form=True
    ),
    "POST /admin/users/<int:user_id>/roles/<int:assignment_id>/remove": Entry(
        "POST",
        at("/admin/users/{ids.user}/roles/{ids.assignment}/remove"),
        ADMIN,
        json({}),
        form=True,
    ),
    "GET /api/docs": Entry("GET", at("/api/docs"), EVERYONE),
    "GET /api/docs/assets/<path:filename>": Entry(
        "GET", at("/api/docs/assets/swagger-ui.css"), EVERYONE
    ),
    "GET /api/v1/audit/alerts": Entry("GET", at("/api/v1/audit/alerts"), AUDIT),
    "GET /api/v1/audit/checkpoints": Entry("GET", at("/api/v1/audit/checkpoints"), AUDIT),
    "GET /api/v1/audit/consistency": Entry(
        "GET", at("/api/v1/audit/consistency?old=1&new=2"), AUDIT
    ),
    "GET /api/v1/audit/events": Entry("GET", at("/api/v1/audit/events"), AUDIT),
    "GET /api/v1/audit/events/<int:seq>": Entry("GET", at("/api/v1/audit/events/1"), AUDIT),
    "GET /api/v1/audit/events/<int:seq>/proof": Entry(
        "GET", at("/api/v1/audit/events/1/proof"), AUDIT
    ),
    "GET /api/v1/audit/events/export": Entry("GET", at("/api/v1/audit/events/export"), AUDIT),
    "GET /api/v1/audit/export": Entry("GET", at("/api/v1/audit/export"), AUDIT),
    "GET /api/v1/audit/public-key": Entry("GET", at("/api/v1/audit/public-key"), AUDIT),
    "GET /api/v1/audit/reports/dataset/<int:dataset_id>": Entry(
        "GET", at("/api/v1/audit/reports/dataset/{ids.dataset}"), AUDIT
    ),
    "GET /api/v1/audit/reports/downloads": Entry(
        "GET", at("/api/v1/audit/reports/downloads"), AUDIT
    ),
    "GET /api/v1/audit/reports/user/<int:user_id>": Entry(
        "GET", at("/api/v1/audit/reports/user/{ids.user}"), AUDIT
    ),
    "GET /api/v1/committees": Entry("GET", at("/api/v1/committees"), SIGNED_IN),
    "POST /api/v1/committees": Entry("POST", at("/api/v1/committees"), ADMIN, committee_named),
    "GET /api/v1/committees/<int:committee_id>": Entry(
        "GET", at("/api/v1/committees/1"), SIGNED_IN
    ),
    "PATCH /api/v1/committees/<int:committee_id>": Entry(
        "PATCH", at("/api/v1/committees/1"), ADMIN, json({"description": "x"})
    ),
    "POST /api/v1/committees/<int:committee_id>/members": Entry(
        "POST", at("/api/v1/committees/1/members"), ADMIN, json({"user_id": 1})
    ),
    "DELETE /api/v1/committees/<int:committee_id>/members/<int:user_id>": Entry(
        "DELETE", at("/api/v1/committees/1/members/{ids.user}"), ADMIN
    ),
    "GET /api/v1/committees/<int:committee_id>/queue": Entry(
        "GET", at("/api/v1/committees/1/queue"), COMMITTEE
    ),
    "GET /api/v1/datasets": Entry("GET", at("/api/v1/datasets"), EVERYONE),
    "POST /api/v1/datasets": Entry(
        "POST",
        at("/api/v1/datasets"),
        ADMIN,
        lambda role: {"study_id": 1, "accession": f"ds-{role}", "name": "Results", "tier": "open"},
    ),
    "PATCH /api/v1/datasets/<int:dataset_id>": Entry(
        "PATCH", at("/api/v1/datasets/{ids.dataset}"), ADMIN, json({"name": "Renamed"})
    ),
    "GET /api/v1/datasets/<int:dataset_id>": Entry(
        "GET", at("/api/v1/datasets/{ids.dataset}"), EVERYONE
    ),
    "GET /api/v1/datasets/<int:dataset_id>/manifest": Entry(
        "GET", at("/api/v1/datasets/{ids.dataset}/manifest"), EVERYONE
    ),
    "GET /api/v1/datasets/<int:dataset_id>/agreement": Entry(  # its text is public
        "GET", at("/api/v1/datasets/{ids.dataset}/agreement"), EVERYONE
    ),
    "POST /api/v1/datasets/<int:dataset_id>/agreement/accept": Entry(
        "POST",
        at("/api/v1/datasets/{ids.dataset}/agreement/accept"),
        SIGNED_IN,
        json({"version": 1, "sha256": "0" * 64}),
    ),
    "POST /api/v1/datasets/<int:dataset_id>/agreements": Entry(
        "POST",
        at("/api/v1/datasets/{ids.dataset}/agreements"),
        ADMIN,
        json({"text": "A new agreement text."}),
    ),
    "GET /api/v1/eqtls": Entry("GET", at("/api/v1/eqtls?gene=ALB"), EVERYONE),
    "GET /api/v1/genes/suggestions": Entry("GET", at("/api/v1/genes/suggestions?q=AL"), EVERYONE),
    "GET /api/v1/expression/genes/<gene>": Entry(
        "GET", at("/api/v1/expression/genes/ALB"), EVERYONE
    ),
    "GET /api/v1/expression/genes/<gene>/isoforms": Entry(
        "GET", at("/api/v1/expression/genes/ALB/isoforms"), EVERYONE
    ),
    # Controlled file: only a live grant opens it, and nobody here holds one.
    "GET /api/v1/files/<int:file_id>/url": Entry("GET", at("/api/v1/files/{ids.file}/url"), NOBODY),
    "PATCH /api/v1/files/<int:file_id>": Entry(
        "PATCH", at("/api/v1/files/{ids.file}"), ADMIN, json({"description": "x"})
    ),
    "DELETE /api/v1/files/<int:file_id>": Entry("DELETE", at("/api/v1/files/{ids.file}"), ADMIN),
    # No object is stored under the key: the admin's answer is a 400 after authorisation.
    "POST /api/v1/datasets/<int:dataset_id>/files": Entry(
        "POST",
        at("/api/v1/datasets/{ids.dataset}/files"),
        ADMIN,
        json(
            {
                "key": "none/x.tsv",
                "kind": "clinical",
                "size": 1,
                "sha256": "0" * 64,
                "md5": "0" * 32,
            }
        ),
    ),
    "POST /api/v1/datasets/<int:dataset_id>/files/prefix": Entry(
        "POST",
        at("/api/v1/datasets/{ids.dataset}/files/prefix"),
        ADMIN,
        json({"prefix": "none/", "dry_run": True}),
    ),
    "POST /api/v1/files/<int:file_id>/url": Entry(
        "POST", at("/api/v1/files/{ids.file}/url"), NOBODY, json({"passports": ["x.y.z"]})
    ),
    "GET /api/v1/openapi.json": Entry("GET", at("/api/v1/openapi.json"), EVERYONE),
    "GET /api/v1/requests": Entry("GET", at("/api/v1/requests"), SIGNED_IN),
    "POST /api/v1/requests": Entry(
        "POST",
        at("/api/v1/requests"),
        SIGNED_IN,
        json({"title": "Filed", "research_use_statement": STATEMENT, "dataset_ids": [1]}),
    ),
    # A submitted request: the applicant, the signing official of their institution, admins
    # and auditors see it (the committee once it is endorsed); nobody else learns it exists.
    "GET /api/v1/requests/<int:request_id>": Entry(
        "GET", at("/api/v1/requests/{ids.request}"), SEES_REQUEST, hidden=True
    ),
    "POST /api/v1/requests/<int:request_id>/<action>": Entry(
        "POST", at("/api/v1/requests/{ids.request}/endorse"), frozenset({SO}), json({}), hidden=True
    ),
    "POST /api/v1/tokens": Entry("POST", at("/api/v1/tokens"), SIGNED_IN, json({})),
    "GET /api/v1/tokens": Entry("GET", at("/api/v1/tokens"), SIGNED_IN),
    "GET /api/v1/studies": Entry("GET", at("/api/v1/studies"), EVERYONE),
    "POST /api/v1/studies": Entry(
        "POST",
        at("/api/v1/studies"),
        ADMIN,
        lambda role: {"accession": f"s-{role}", "title": "A study"},
    ),
    "PATCH /api/v1/studies/<int:study_id>": Entry(
        "PATCH", at("/api/v1/studies/1"), ADMIN, json({"description": "x"})
    ),
    "DELETE /api/v1/tokens/<int:token_id>": Entry(
        "DELETE", at("/api/v1/tokens/{ids.token}"), frozenset({R}), hidden=True
    ),
    "GET /api/v1/users": Entry("GET", at("/api/v1/users"), ADMIN),
    "PATCH /api/v1/users/<int:user_id>": Entry(
        "PATCH", at("/api/v1/users/{ids.user}"), ADMIN, json({"institution_id": None})
    ),
    "GET /api/v1/institutions": Entry("GET", at("/api/v1/institutions"), SIGNED_IN),
    "POST /api/v1/institutions": Entry(
        "POST", at("/api/v1/institutions"), ADMIN, lambda role: {"name": f"API {role}"}
    ),
    "PATCH /api/v1/institutions/<int:institution_id>": Entry(
        "PATCH", at("/api/v1/institutions/1"), ADMIN, json({"email_domains": []})
    ),
    "POST /api/v1/users": Entry("POST", at("/api/v1/users"), ADMIN, invitee),
    "DELETE /api/v1/users/<int:user_id>/invitation": Entry(
        "DELETE", at("/api/v1/users/{ids.user}/invitation"), ADMIN
    ),
    "POST /api/v1/users/<int:user_id>/roles": Entry(
        "POST", at("/api/v1/users/{ids.user}/roles"), ADMIN, json({"role": "auditor"})
    ),
    "DELETE /api/v1/users/<int:user_id>/roles/<int:assignment_id>": Entry(
        "DELETE", at("/api/v1/users/{ids.user}/roles/{ids.assignment}"), ADMIN
    ),
    "DELETE /api/v1/users/<int:user_id>/sessions": Entry(
        "DELETE", at("/api/v1/users/{ids.user}/sessions"), ADMIN
    ),
    "GET /api/v1/users/me": Entry("GET", at("/api/v1/users/me"), SIGNED_IN),
    "DELETE /api/v1/users/me/sessions": Entry("DELETE", at("/api/v1/users/me/sessions"), SIGNED_IN),
    "GET /api/v1/users/me/visas": Entry("GET", at("/api/v1/users/me/visas"), SIGNED_IN),
    "GET /audit": Entry("GET", at("/audit"), AUDIT),
    "GET /audit/alerts": Entry("GET", at("/audit/alerts"), AUDIT),
    "GET /audit/downloads": Entry("GET", at("/audit/downloads"), AUDIT),
    "GET /audit/events/<int:seq>": Entry("GET", at("/audit/events/1"), AUDIT),
    "GET /audit/reports": Entry("GET", at("/audit/reports"), AUDIT),
    "GET /audit/reports/dataset/<int:dataset_id>": Entry(
        "GET", at("/audit/reports/dataset/{ids.dataset}"), AUDIT
    ),
    "GET /audit/reports/user/<int:user_id>": Entry(
        "GET", at("/audit/reports/user/{ids.user}"), AUDIT
    ),
    "GET /audit/verification": Entry("GET", at("/audit/verification"), AUDIT),
    "POST /audit/verification": Entry(
        "POST", at("/audit/verification"), AUDIT, json({}), form=True
    ),
    "GET /auth/callback": Entry("GET", at("/auth/callback?code=x&state=y"), EVERYONE),
    "GET /auth/login": Entry("GET", at("/auth/login"), EVERYONE, upstream=True),
    "GET /auth/login/<name>": Entry("GET", at("/auth/login/default"), EVERYONE, upstream=True),
    # Without a session there is no CSRF token, hence nothing to sign out of.
    "POST /auth/logout": Entry("POST", at("/auth/logout"), SIGNED_IN, json({}), form=True),
    "POST /auth/logout-everywhere": Entry(
        "POST", at("/auth/logout-everywhere"), SIGNED_IN, json({}), form=True
    ),
    "GET /committees/<int:committee_id>/queue": Entry("GET", at("/committees/1/queue"), COMMITTEE),
    "GET /datasets/<int:dataset_id>": Entry("GET", at("/datasets/{ids.dataset}"), EVERYONE),
    "GET /datasets/<int:dataset_id>/agreement": Entry(
        "GET", at("/datasets/{ids.dataset}/agreement"), EVERYONE
    ),
    "POST /datasets/<int:dataset_id>/agreement/accept": Entry(
        "POST",
        at("/datasets/{ids.dataset}/agreement/accept"),
        SIGNED_IN,
        json({"version": "1", "sha256": "0" * 64}),
        form=True,
    ),
    "GET /datasets/<int:dataset_id>/agreements/new": Entry(
        "GET", at("/datasets/{ids.dataset}/agreements/new"), ADMIN
    ),
    "POST /datasets/<int:dataset_id>/agreements/new": Entry(
        "POST",
        at("/datasets/{ids.dataset}/agreements/new"),
        ADMIN,
        json({"text": "A new agreement."}),
        form=True,
    ),
    "GET /dev-idp/.well-known/openid-configuration": Entry(
        "GET", at("/dev-idp/.well-known/openid-configuration"), EVERYONE
    ),
    "GET /dev-idp/authorize": Entry("GET", at("/dev-idp/authorize"), EVERYONE),
    # The persona form carries the CSRF token of the session its page began.
    "POST /dev-idp/authorize": Entry(
        "POST", at("/dev-idp/authorize"), SIGNED_IN, json({}), form=True
    ),
    "GET /dev-idp/jwks.json": Entry("GET", at("/dev-idp/jwks.json"), EVERYONE),
    # The token endpoint authenticates the client by its secret: nobody here has it.
    "POST /dev-idp/token": Entry(
        "POST",
        at("/dev-idp/token"),
        NOBODY,
        json({"grant_type": "authorization_code", "code": "x"}),
        form=True,
    ),
    "GET /dev-idp/userinfo": Entry("GET", at("/dev-idp/userinfo"), NOBODY),
    "POST /dev-idp/userinfo": Entry("POST", at("/dev-idp/userinfo"), NOBODY, json({}), form=True),
    "GET /favicon.ico": Entry("GET", at("/favicon.ico"), EVERYONE),
    "POST /files/<int:file_id>/download": Entry(
        "POST", at("/files/{ids.file}/download"), NOBODY, json({}), form=True
    ),
    "POST /ga4gh/drs/v1/objects": Entry(
        "POST", at("/ga4gh/drs/v1/objects"), EVERYONE, lambda role: {"bulk_object_ids": ["1"]}
    ),
    "OPTIONS /ga4gh/drs/v1/objects": Entry(
        "OPTIONS", at("/ga4gh/drs/v1/objects"), EVERYONE, lambda role: {"bulk_object_ids": ["1"]}
    ),
    "GET /ga4gh/drs/v1/objects/<object_id>": Entry(
        "GET", at("/ga4gh/drs/v1/objects/{ids.file}"), EVERYONE
    ),
    "POST /ga4gh/drs/v1/objects/<object_id>": Entry(
        "POST", at("/ga4gh/drs/v1/objects/{ids.file}"), EVERYONE, json({})
    ),
    "OPTIONS /ga4gh/drs/v1/objects/<object_id>": Entry(
        "OPTIONS", at("/ga4gh/drs/v1/objects/{ids.file}"), EVERYONE
    ),
    "GET /ga4gh/drs/v1/objects/<object_id>/access/<access_id>": Entry(
        "GET", at("/ga4gh/drs/v1/objects/{ids.file}/access/signed-url"), NOBODY
    ),
    "POST /ga4gh/drs/v1/objects/<object_id>/access/<access_id>": Entry(
        "POST", at("/ga4gh/drs/v1/objects/{ids.file}/access/signed-url"), NOBODY, json({})
    ),
    "POST /ga4gh/drs/v1/objects/access": Entry(
        "POST",
        at("/ga4gh/drs/v1/objects/access"),
        NOBODY,
        refused_in_body=lambda body: not body.get("resolved_drs_object_access_urls"),
        body=lambda role: {
            "bulk_object_access_ids": [{"bulk_object_id": "2", "bulk_access_ids": ["signed-url"]}]
        },
    ),
    "GET /ga4gh/drs/v1/service-info": Entry("GET", at("/ga4gh/drs/v1/service-info"), EVERYONE),
    # htsget: a ticket needs a live grant, which nobody in this world holds yet.
    "GET /ga4gh/htsget/v1/<any(reads, variants):endpoint>/<object_id>": Entry(
        "GET", at("/ga4gh/htsget/v1/variants/{ids.file}"), NOBODY
    ),
    "POST /ga4gh/htsget/v1/<any(reads, variants):endpoint>/<object_id>": Entry(
        "POST", at("/ga4gh/htsget/v1/variants/{ids.file}"), NOBODY, json({})
    ),
    "OPTIONS /ga4gh/htsget/v1/<any(reads, variants):endpoint>/<object_id>": Entry(
        "OPTIONS", at("/ga4gh/htsget/v1/variants/{ids.file}"), EVERYONE
    ),  # CORS preflight
    "GET /ga4gh/htsget/v1/reads/service-info": Entry(
        "GET", at("/ga4gh/htsget/v1/reads/service-info"), EVERYONE
    ),
    "GET /ga4gh/htsget/v1/variants/service-info": Entry(
        "GET", at("/ga4gh/htsget/v1/variants/service-info"), EVERYONE
    ),
    "GET /healthz": Entry("GET", at("/healthz"), EVERYONE),
    "GET /readyz": Entry("GET", at("/readyz"), EVERYONE),
    "GET /requests": Entry("GET", at("/requests"), SIGNED_IN),
    "GET /work": Entry("GET", at("/work"), SIGNED_IN),
    "GET /requests/<int:request_id>": Entry(
        "GET", at("/requests/{ids.request}"), SEES_REQUEST, hidden=True
    ),
    "POST /requests/<int:request_id>/<action>": Entry(
        "POST",
        at("/requests/{ids.request}/endorse"),
        frozenset({SO}),
        json({}),
        form=True,
        hidden=True,
    ),
    # Only a chair of the request's committee decides, once it is endorsed: in this world it
    # is only submitted, so the committee does not see it yet and nobody may.
    "POST /requests/<int:request_id>/decide": Entry(
        "POST",
        at("/requests/{ids.request}/decide"),
        NOBODY,
        json({"decision": "approve", "reason": "Fine.", "days": "30"}),
        form=True,
        hidden=True,
    ),
    # The form shows what they may see; only the applicant's revise is accepted.
    "GET /requests/<int:request_id>/edit": Entry(
        "GET", at("/requests/{ids.request}/edit"), SEES_REQUEST, hidden=True
    ),
    "GET /requests/new": Entry("GET", at("/requests/new"), SIGNED_IN),
    "POST /requests/new": Entry(
        "POST",
        at("/requests/new"),
        SIGNED_IN,
        json({"title": "Filed", "research_use_statement": STATEMENT, "dataset_ids": "1"}),
        form=True,
    ),
    "GET /results": Entry("GET", at("/results"), EVERYONE),
    "GET /results/genes/<gene>": Entry("GET", at("/results/genes/ALB"), EVERYONE),
    "GET /results/tissues/<tissue>": Entry("GET", at("/results/tissues/Liver"), EVERYONE),
    "GET /results/variants/<variant>": Entry(
        "GET", at("/results/variants/chr1_13550_G_A_b38"), EVERYONE
    ),
    "GET /static/<path:filename>": Entry("GET", at("/static/site.css"), EVERYONE),
    # Only a valid signature opens stored bytes; nobody is signed in to them.
    "GET /storage/<path:key>": Entry("GET", at("/storage/any.vcf.gz"), NOBODY),
    "GET /tokens": Entry("GET", at("/tokens"), SIGNED_IN),
    "POST /tokens": Entry(
        "POST",
        at("/tokens"),
        SIGNED_IN,
        lambda role: {"name": "t", "days": "1", "scopes": "catalogue", "form_id": role},
        form=True,
    ),
    "POST /tokens/<int:token_id>/revoke": Entry(
        "POST", at("/tokens/{ids.token}/revoke"), frozenset({R}), json({}), form=True, hidden=True
    ),
}


def url_map_keys(demo: DemoInstance) -> set[str]:
    keys = set()
    for rule in demo.app.url_map.iter_rules():
        # A rule that only answers OPTIONS (DRS's authorisation discovery) is its own entry.
        methods = (rule.methods or set()) - {"HEAD", "OPTIONS"} or {"OPTIONS"}
        keys |= {f"{method} {rule.rule}" for method in methods}
    return keys


def test_every_route_has_an_entry(demo: DemoInstance) -> None:
    missing = sorted(url_map_keys(demo) - set(MATRIX))
    assert missing == [], f"add these routes to MATRIX: {missing}"
    assert sorted(set(MATRIX) - url_map_keys(demo)) == [], "entries for routes that are gone"


@dataclass
class World:
    ids: Ids
    clients: dict[str, FlaskClient] = field(default_factory=dict)


def build_world(demo: DemoInstance) -> World:
    factory = demo.app.extensions["custodian.session_factory"]
    now = demo.clock.now()
    with factory.begin() as session:
        factories.user(
            session,
            now,
            subject=SO2,
            institution="Elsewhere University",
            signing_official_of="Elsewhere University",
        )
        factories.committee(session, now, members=[factories.user(session, now, subject=M2)])
    clients = {ANON: demo.app.test_client()}
    for role in ROLES[1:]:
        clients[role] = signed_in_client(demo, role)
    csrf = {"X-CSRF-Token": "known-token"}
    researcher = clients[R]
    filed = researcher.post(
        "/api/v1/requests",
        headers=csrf,
        json={"title": "Matrix", "research_use_statement": STATEMENT, "dataset_ids": [1]},
    )
    assert filed.status_code == 201, filed.get_json()
    request_id = filed.get_json()["id"]
    assert researcher.post(f"/api/v1/requests/{request_id}/submit", headers=csrf).status_code == 200
    token = researcher.post("/api/v1/tokens", headers=csrf, json={"name": "m"}).get_json()
    dataset_id, files = controlled_files(demo)
    with factory() as session:
        auditor = session.scalars(select(User).where(User.subject == AU)).one()
        assignment = session.scalars(
            select(RoleAssignment.id).where(RoleAssignment.user_id == auditor.id)
        ).first()
        return World(
            Ids(request_id, dataset_id, files[0], auditor.id, assignment, token["id"]), clients
        )


def denied(entry: Entry, response: Any) -> bool:
    if response.status_code in (401, 403):
        return True
    if response.status_code == 400 and "CSRF" in response.get_data(as_text=True):
        return True  # no session to ride on: refused before anything is read
    if response.status_code == 404 and entry.hidden:
        return True
    if entry.refused_in_body is not None and response.status_code == 200:
        return entry.refused_in_body(response.get_json())
    location = response.headers.get("Location", "")
    return response.status_code in (302, 303) and "/auth/login" in location


@pytest.mark.parametrize("key", sorted(MATRIX))
def test_route_by_every_role(demo: DemoInstance, key: str) -> None:
    entry = MATRIX[key]
    world = build_world(demo)
    outcomes: dict[str, str] = {}
    statuses: dict[str, int] = {}
    for role in sorted(ROLES, key=lambda r: r in entry.allowed):  # the denied first
        body = entry.body(role) if entry.body else None
        options: dict[str, Any] = {"headers": {"X-CSRF-Token": "known-token"}}
        if entry.form:
            options["data"] = {**(body or {}), "csrf_token": "known-token"}
        elif body is not None:
            options["json"] = body
        response = world.clients[role].open(
            entry.path(world.ids, role), method=entry.method, **options
        )
        server_error = response.status_code >= 500 and not (
            entry.upstream and response.status_code == 502
        )
        assert not server_error, (key, role, response.get_data(as_text=True)[:300])
        outcomes[role] = "deny" if denied(entry, response) else "allow"
        statuses[role] = response.status_code
    expected = {role: "allow" if role in entry.allowed else "deny" for role in ROLES}
    wrong = {
        role: (outcomes[role], statuses[role]) for role in ROLES if outcomes[role] != expected[role]
    }
    if wrong:
        pytest.fail(f"{key}: these roles were answered otherwise (outcome, status): {wrong}")
