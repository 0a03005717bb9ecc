"""The dataset page and API say what a visitor may download and how: short checksums with
the whole value one click away, DRS ids, a manifest for the download client and its exact
command; the API's ``your_access`` says the same with an absolute link to the next step."""

from __future__ import annotations

import csv
import io
import re

import requests
from sqlalchemy import select

from datasets.catalogue.models import DataFile, Dataset
from datasets.demo.synthetic_study import CONSENT_GROUP_ACCESSION
from tests.agreements import accept_as
from tests.conftest import DemoInstance, issue_token, sign_in
from tests.integration.passport_support import give_grant
from tests.integration.test_api_bad_input import assert_error_shape


def consent_group(demo: DemoInstance) -> tuple[Dataset, list[DataFile]]:
    with demo.app.extensions["custodian.session_factory"]() as session:
        dataset = session.scalars(
            select(Dataset).where(Dataset.accession == CONSENT_GROUP_ACCESSION)).one()
        files = list(dataset.live_files)
        session.expunge_all()
        return dataset, files


def test_checksums_are_short_with_the_whole_value_in_a_disclosure_and_a_title(
    demo: DemoInstance,
) -> None:
    dataset, files = consent_group(demo)
    html = demo.app.test_client().get(f"/datasets/{dataset.id}").get_data(as_text=True)
    for data_file in files:
        for value in (data_file.sha256, data_file.md5):
            assert f'<code title="{value}">{value[:12]}…</code></summary>' in html
            assert f'<code class="full">{value}</code></details>' in html
            assert f'data-copy="{value}"' in html  # the copy button's value (enhance.js)
        drs_id = f"drs://127.0.0.1:{demo.settings.public_url.rsplit(':', 1)[1]}/{data_file.id}"
        assert f"<code>{drs_id}</code>" in html
    # No checksum is printed whole outside its disclosure.
    visible = re.sub(r'<code class="full">[^<]*</code>|title="[^"]*"|data-copy="[^"]*"', "",
                     html)
    assert files[0].sha256 not in visible


def test_download_all_offers_the_manifest_and_the_exact_command(live: DemoInstance) -> None:
    dataset, files = consent_group(live)
    page = f"{live.base_url}/datasets/{dataset.id}"
    html = requests.get(page, timeout=10).text
    name = f"{CONSENT_GROUP_ACCESSION}-manifest.tsv"
    assert f'href="/api/v1/datasets/{dataset.id}/manifest" download="{name}"' in html
    assert (f"custodian-download login {live.settings.public_url}\n"
            f"custodian-download download --manifest {name} -o {CONSENT_GROUP_ACCESSION}"
            ) in html
    assert f'<a href="/auth/login?next=/datasets/{dataset.id}">sign in</a>' in html

    researcher = sign_in(live.base_url, "researcher")
    give_grant(live.app, live.clock.now(), "researcher")
    pending = researcher.get(page, timeout=10).text
    assert f'<a href="/datasets/{dataset.id}/agreement">accept the data-use agreement</a>' \
        in pending
    assert "Download</button>" not in pending
    accept_as(live, "researcher", dataset.id)
    ready = researcher.get(page, timeout=10).text
    assert "controlled ones once you" not in ready
    assert ready.count('<button type="submit">Download</button>') == len(files)


def test_the_manifest_lists_every_live_file_in_the_clients_format(demo: DemoInstance) -> None:
    dataset, files = consent_group(demo)
    response = demo.app.test_client().get(f"/api/v1/datasets/{dataset.id}/manifest")
    assert response.status_code == 200
    assert response.mimetype == "text/tab-separated-values"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{CONSENT_GROUP_ACCESSION}-manifest.tsv"')
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True)), delimiter="\t"))
    host = demo.settings.public_url.split("://", 1)[1]
    assert rows == [
        {"id": str(f.id), "name": f.name, "kind": f.kind, "tier": f.tier, "size": str(f.size),
         "sha256": f.sha256, "md5": f.md5, "drs_uri": f"drs://{host}/{f.id}"}
        for f in files
    ]
    missing = demo.app.test_client().get("/api/v1/datasets/999999/manifest")
    assert_error_shape(missing, 404)


def test_the_api_says_whether_you_may_download_with_an_absolute_next_step(
    demo: DemoInstance,
) -> None:
    dataset, _ = consent_group(demo)
    client = demo.app.test_client()
    base = demo.settings.public_url

    def access(headers: dict[str, str] | None = None) -> dict[str, object]:
        body = client.get(f"/api/v1/datasets/{dataset.id}", headers=headers).get_json()
        answer: dict[str, object] = body["your_access"]
        return answer

    assert access() == {"may_download": False, "reason": "sign_in",
                        "next_step": f"{base}/auth/login?next=/datasets/{dataset.id}"}
    researcher = issue_token(demo, "researcher")
    assert access(researcher) == {"may_download": False, "reason": "no_grant",
                                  "next_step": f"{base}/requests/new?dataset={dataset.id}"}
    give_grant(demo.app, demo.clock.now(), "researcher")
    assert access(researcher) == {"may_download": False, "reason": "accept_agreement",
                                  "next_step": f"{base}/datasets/{dataset.id}/agreement"}
    accept_as(demo, "researcher", dataset.id)
    assert access(researcher) == {"may_download": True, "reason": "grant", "next_step": None}
    open_ids = [d["id"] for d in client.get("/api/v1/datasets").get_json()["datasets"]
                if d["tier"] == "open"]
    assert open_ids
    opened = client.get(f"/api/v1/datasets/{open_ids[0]}").get_json()["your_access"]
    assert opened == {"may_download": True, "reason": "open", "next_step": None}
