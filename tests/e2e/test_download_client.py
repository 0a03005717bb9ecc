"""The ``custodian-download`` console script against the running demo service.

Most tests run the installed script in a subprocess, as a researcher would; the URL-expiry
test runs its main() in-process, so that it can move the service's clock between two
ranged requests of one transfer.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from audit.log.models import AuditEvent
from datasets.catalogue.models import DataFile
from datasets.client import main as client_main
from datasets.client import service, transfer
from datasets.demo.synthetic_study import CONSENT_GROUP_ACCESSION
from tests.agreements import accept_as
from tests.conftest import DemoInstance, issue_token
from tests.integration.passport_support import give_grant

SCRIPT = Path(sys.executable).parent / "custodian-download"
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Client:
    live: DemoInstance
    home: Path  # XDG_CONFIG_HOME of the researcher's machine
    downloads: Path

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        # The installed script, running this checkout's code (a venv may hold another's).
        env = {**os.environ, "XDG_CONFIG_HOME": str(self.home), "PYTHONPATH": str(REPO)}
        return subprocess.run([str(SCRIPT), *args], input=stdin, capture_output=True,
                              text=True, env=env, timeout=120, cwd=self.downloads)

    def login(self, username: str) -> str:
        token = issue_token(self.live, username)["Authorization"].removeprefix("Bearer ")
        done = self.run("login", self.live.base_url, "--token-stdin", stdin=token + "\n")
        assert done.returncode == 0, done.stderr
        return token

    def files(self, tier: str = "controlled") -> list[DataFile]:
        with self.live.app.extensions["custodian.session_factory"]() as session:
            return list(session.scalars(select(DataFile).where(DataFile.tier == tier)
                                        .order_by(DataFile.id)))

    def events(self, action: str) -> list[AuditEvent]:
        with self.live.app.extensions["custodian.session_factory"]() as session:
            return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                        .order_by(AuditEvent.seq)))


@pytest.fixture
def client(live: DemoInstance, tmp_path: Path) -> Iterator[Client]:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    yield Client(live, tmp_path / "home", downloads)


def grant_with_agreement(client: Client) -> None:
    """What approval and acceptance leave behind: a live grant, the agreement accepted."""
    grant = give_grant(client.live.app, client.live.clock.now(), "researcher")
    accept_as(client.live, "researcher", grant.dataset_id)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_login_keeps_the_token_in_a_file_only_the_user_can_read_and_never_prints_it(
    client: Client,
) -> None:
    token = issue_token(client.live, "researcher")["Authorization"].removeprefix("Bearer ")
    done = client.run("login", client.live.base_url, "--token-stdin", stdin=token + "\n")
    assert done.returncode == 0, done.stderr
    assert "Logged in" in done.stdout and "Riley Researcher" in done.stdout
    assert token not in done.stdout + done.stderr
    stored = client.home / "custodian" / "download.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert json.loads(stored.read_text()) == {"url": client.live.base_url, "token": token}

    refused = client.run("login", client.live.base_url, "--token-stdin", stdin="cus_wrong\n")
    assert refused.returncode == 1
    assert "401" in refused.stderr and "Traceback" not in refused.stderr
    assert json.loads(stored.read_text())["token"] == token  # a refused token is not kept
    assert client.run("logout").stdout.strip() == "Logged out."
    assert not stored.exists()


def test_list_shows_human_sizes_and_which_files_you_may_download(client: Client) -> None:
    client.login("researcher")
    everything = client.run("list")
    assert everything.returncode == 0, everything.stderr
    rows = [line.split("\t") for line in everything.stdout.splitlines()]
    assert rows[0] == ["id", "dataset", "name", "tier", "size", "sha256", "you_may_download"]
    expected = client.files("controlled") + client.files("open")
    assert sorted(int(r[0]) for r in rows[1:]) == sorted(f.id for f in expected)
    one = client.run("list", "--dataset", CONSENT_GROUP_ACCESSION)
    listed = {r.split("\t")[2]: r.split("\t") for r in one.stdout.splitlines()[1:]}
    for data_file in client.files("controlled"):
        assert listed[data_file.name][4:] == [
            client_main.human_size(data_file.size), data_file.sha256, "no"]
    assert all(r[6] == "yes" for r in rows[1:] if r[3] == "open")
    # What to do next, with a link one can open.
    base = client.live.base_url
    assert f"{CONSENT_GROUP_ACCESSION}: you hold no access" in one.stderr
    assert f"{base}/requests/new?dataset=" in one.stderr
    grant_with_agreement(client)
    now = client.run("list", "--dataset", CONSENT_GROUP_ACCESSION)
    assert {r.split("\t")[6] for r in now.stdout.splitlines()[1:]} == {"yes"}
    assert now.stderr == ""
    assert client.run("list", "--dataset", "phs999").returncode == 1


def test_human_sizes_read_like_the_dataset_page() -> None:
    assert [client_main.human_size(n) for n in (0, 999, 1000, 441_891, 1_500_000, 2 * 10**12)
            ] == ["0 B", "999 B", "1.0 kB", "441.9 kB", "1.5 MB", "2.0 TB"]


def test_the_dataset_pages_manifest_downloads_every_file_with_the_command_it_shows(
    client: Client,
) -> None:
    grant_with_agreement(client)
    client.login("researcher")
    base = client.live.base_url
    dataset_id = client.files("controlled")[0].dataset_id
    page = requests.get(f"{base}/datasets/{dataset_id}", timeout=10).text
    shown = re.search(r"<pre[^>]*><code>(.*?)</code></pre>", page, re.DOTALL)
    assert shown is not None, "the dataset page shows no download commands"
    command = shown.group(1).splitlines()[1]
    manifest = requests.get(f"{base}/api/v1/datasets/{dataset_id}/manifest", timeout=10)
    name = command.split("--manifest ", 1)[1].split()[0]
    (client.downloads / name).write_bytes(manifest.content)
    done = client.run(*command.split()[1:])  # the page's own command, word for word
    assert done.returncode == 0, done.stderr
    target = client.downloads / CONSENT_GROUP_ACCESSION
    for data_file in client.files("controlled"):
        assert sha256(target / data_file.name) == data_file.sha256
    assert done.stdout.count("SHA-256 verified") == len(client.files("controlled"))


def test_an_agreement_still_to_accept_is_named_with_an_absolute_link(client: Client) -> None:
    give_grant(client.live.app, client.live.clock.now(), "researcher")
    client.login("researcher")
    data_file = client.files("controlled")[0]
    refused = client.run("download", str(data_file.id))
    assert refused.returncode == 1
    link = f"{client.live.base_url}/datasets/{data_file.dataset_id}/agreement"
    assert f"before downloading: {link} " in refused.stderr
    assert f"POST {client.live.base_url}/api/v1/datasets/" in refused.stderr


def test_parallel_download_of_a_manifest_verifies_every_file(client: Client) -> None:
    grant_with_agreement(client)
    client.login("researcher")
    files = client.files("controlled")
    manifest = client.downloads / "manifest.tsv"
    manifest.write_text("id\tname\n" + "".join(f"{f.id}\t{f.name}\n" for f in files[:4]))
    done = client.run("download", "--manifest", str(manifest), str(files[4].id),
                      "--jobs", "3", "-o", "data")
    assert done.returncode == 0, done.stderr
    for data_file in files[:5]:
        assert sha256(client.downloads / "data" / data_file.name) == data_file.sha256
    assert list((client.downloads / "data").glob("*.part")) == []
    assert done.stdout.count("SHA-256 verified") == 5
    again = client.run("download", str(files[0].id), "-o", "data")
    assert "already present" in again.stdout


def test_an_interrupted_transfer_resumes_from_the_part_file_with_a_range(client: Client) -> None:
    grant_with_agreement(client)
    client.login("researcher")
    data_file = max(client.files("controlled"), key=lambda f: f.size)
    assert client.run("download", str(data_file.id)).returncode == 0
    whole = (client.downloads / data_file.name).read_bytes()
    (client.downloads / data_file.name).unlink()
    half = len(whole) // 2
    (client.downloads / f"{data_file.name}.part").write_bytes(whole[:half])

    done = client.run("download", str(data_file.id))
    assert done.returncode == 0, done.stderr
    assert "resumed, SHA-256 verified" in done.stdout
    assert sha256(client.downloads / data_file.name) == data_file.sha256
    served = client.events("file:serve")[-1]
    assert served.details["range"].startswith(f"bytes={half}-")


def test_a_url_that_expires_mid_transfer_is_replaced_and_the_transfer_continues(
    client: Client, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    grant_with_agreement(client)
    client.login("researcher")
    data_file = max(client.files("controlled"), key=lambda f: f.size)
    made = service.new_session

    def session_that_waits_after_the_first_chunk() -> requests.Session:
        session = made()

        def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            if "/storage/" in response.url and response.status_code == 206:
                client.live.clock.advance(timedelta(minutes=16))  # past the URL's 15

        session.hooks["response"].append(hook)
        return session

    monkeypatch.setattr(transfer, "new_session", session_that_waits_after_the_first_chunk)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(client.home))
    code = client_main.main(["download", str(data_file.id), "-o", str(client.downloads),
                             "--chunk-size", "200000"])
    assert code == 0, capsys.readouterr().err
    assert sha256(client.downloads / data_file.name) == data_file.sha256
    assert len(client.events("file:refuse")) == 2  # each expired URL, once
    issued = [e for e in client.events("url:issue") if e.target_id == str(data_file.id)]
    assert len(issued) == 3  # the first URL, then a fresh one after each expiry
    ranges = [e.details["range"] for e in client.events("file:serve")]
    assert ranges == ["bytes=0-199999", "bytes=200000-399999", "bytes=400000-441890"]


def test_a_file_whose_bytes_do_not_match_the_catalogue_fails_and_leaves_no_part(
    client: Client,
) -> None:
    grant_with_agreement(client)
    client.login("researcher")
    data_file = client.files("controlled")[0]
    stored = client.live.settings.storage_root / data_file.storage_key
    stored.write_bytes(b"X" + stored.read_bytes()[1:])  # same size, other bytes
    done = client.run("download", str(data_file.id))
    assert done.returncode == 1
    assert "SHA-256 mismatch" in done.stderr and "partial file was removed" in done.stderr
    assert list(client.downloads.iterdir()) == []


def test_clear_messages_for_a_bad_token_no_grant_and_an_unknown_file(client: Client) -> None:
    client.login("researcher2")
    controlled = client.files("controlled")[0]
    no_grant = client.run("download", str(controlled.id))
    assert no_grant.returncode == 1
    assert "403" in no_grant.stderr and "no live grant" in no_grant.stderr
    assert list(client.downloads.iterdir()) == []
    open_file = client.files("open")[0]
    assert client.run("download", str(open_file.id)).returncode == 0  # open tier: no grant

    unknown = client.run("download", "999999")
    assert unknown.returncode == 1 and "404" in unknown.stderr

    config = client.home / "custodian" / "download.json"
    config.write_text(json.dumps({"url": client.live.base_url, "token": "cus_revoked"}))
    bad_token = client.run("download", str(controlled.id))
    assert bad_token.returncode == 1
    assert "401" in bad_token.stderr and "custodian-download login" in bad_token.stderr
    for run in (no_grant, unknown, bad_token):
        assert "Traceback" not in run.stderr


def test_no_login_and_nonsense_arguments_get_one_line_each(client: Client) -> None:
    not_logged_in = client.run("list")
    assert not_logged_in.returncode == 1 and "Not logged in" in not_logged_in.stderr
    assert client.run("download").returncode == 2
    assert client.run("download", "1", "--jobs", "0").returncode == 2
    bad_manifest = client.downloads / "bad.tsv"
    bad_manifest.write_text("name\nx\n")
    done = client.run("download", "--manifest", str(bad_manifest))
    assert done.returncode == 2 and "no id column" in done.stderr
