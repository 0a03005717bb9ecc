"""A production site on this machine, set up as the README's "Production" section says, for
the walk-through (tests/e2e/test_production_walkthrough.py).

Every part is real and independent of the service: a PostgreSQL cluster of its own, set up
by the README's database runbooks (an owner role runs the migrations, the service runs as
``custodian_app``); s3rver, which checks SigV4 signatures; panva's oidc-provider; gunicorn
with the shipped deploy/gunicorn.conf.py, terminating TLS itself (``--certfile``,
``--keyfile``) so that the production session cookie, which is ``Secure``, travels as it
would. The service and the ``flask`` commands get only settings the README documents, and
only through the environment or ``_FILE`` secrets: nothing is set up in-process.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from tests.gunicorn_service import GUNICORN_CONFIG
from tests.oidc_provider import NodeProvider, authorize
from tests.ports import HeldPort, reserve_port
from tests.postgres import PostgresCluster, postgres_bin, throwaway_cluster
from tests.runbooks import ROOT, app_url, run, runbook
from tests.s3rver import ACCESS_KEY, SECRET_ACCESS_KEY, S3Server, running_s3rver

BUCKET = "institute-genomics"
CLIENT_ID = "custodian"
CLIENT_SECRET = "the-client-secret-the-provider-registered-for-us"
FLASK = str(Path(sys.executable).with_name("flask"))
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
START_SECONDS = 180  # gunicorn workers build the app: a minute on a loaded machine
AUDIT_KEY = "audit-signing.pem"  # under the site's secrets/
# What the provider's `institution` claim says: free text, naming no institution record, as
# many providers send (so the email domain places people).
PROVIDER_INSTITUTION = "Dept. of Genetics, Example U."


@dataclass
class Site:
    base_url: str
    provider: NodeProvider
    store: S3Server
    cluster: PostgresCluster
    folder: Path
    environment: dict[str, str]  # the service's: documented settings, nothing else
    certificate: Path  # the service's self-signed certificate: what clients trust
    process: subprocess.Popen[bytes]  # gunicorn
    log: Path

    def flask(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A command as the operator types it, with the service's own settings."""
        return subprocess.run(
            [FLASK, "--app", "app:create_app", *args],
            cwd=self.folder,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def audit_public_key(self) -> bytes:
        """The checkpoint key's public half, as the operator derives it from the private key
        they configured (`openssl pkey -in audit-signing.pem -pubout`)."""
        private = serialization.load_pem_private_key(
            (self.folder / "secrets" / AUDIT_KEY).read_bytes(), password=None)
        return private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def s3_client(self) -> Any:
        """The operator's own S3 client, as `aws s3 cp` would be."""
        return boto3.client(
            "s3",
            endpoint_url=self.store.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def sign_in(self, login: str) -> tuple[requests.Session, dict[str, Any]]:
        """A browser signing in at the provider as ``login`` (email ``<login>@example.org``,
        verified); returns it, carrying its CSRF token, and its ``/api/v1/users/me``."""
        browser = self.client()
        callback = f"{self.base_url}/auth/callback"
        landed = browser.get(
            authorize(browser, f"{self.base_url}/auth/login?next=/requests", login, callback),
            timeout=10,
        )
        assert landed.status_code == 200 and landed.url == f"{self.base_url}/requests", landed.text
        me = browser.get(f"{self.base_url}/api/v1/users/me", timeout=10)
        assert me.status_code == 200, me.text
        browser.headers["X-CSRF-Token"] = me.json()["csrf_token"]
        return browser, me.json()

    def client(self) -> requests.Session:
        """Trusting the site's certificate: with trust_env, a REQUESTS_CA_BUNDLE of the
        machine's would override the session's own ``verify``."""
        client = requests.Session()
        client.trust_env = False
        client.verify = str(self.certificate)
        return client

    def bearer(self, token: str) -> requests.Session:
        """A script holding a personal API token, and no cookie."""
        script = self.client()
        script.headers["Authorization"] = f"Bearer {token}"
        return script


@contextmanager
def production_site(folder: Path) -> Iterator[Site]:
    with ExitStack() as stack:
        cluster = stack.enter_context(throwaway_cluster())
        store = stack.enter_context(running_s3rver(BUCKET))
        held = HeldPort()
        stack.callback(held.close)
        base_url = f"https://127.0.0.1:{held.number}"
        provider = NodeProvider(reserve_port(), CLIENT_ID, CLIENT_SECRET,
                                f"{base_url}/auth/callback", folder / "oidc-provider.log",
                                institution=PROVIDER_INSTITUTION)
        stack.callback(provider.stop)
        provider.start()
        certificate, private_key = _self_signed_certificate(folder)
        environment = _service_environment(folder, cluster, store, provider, base_url)
        _set_up_database(cluster, environment)
        log = folder / "gunicorn.log"
        process = _serve(stack, held, environment, certificate, private_key, log)
        site = Site(base_url, provider, store, cluster, folder, environment, certificate,
                    process, log)
        _wait_until_ready(site)
        yield site


def _service_environment(
    folder: Path, cluster: PostgresCluster, store: S3Server, provider: NodeProvider,
    base_url: str,
) -> dict[str, str]:
    """README, "Production": secrets from `flask keys generate` in files (step 2), the app
    role's database URL (step 3), the S3 store (step 4), the provider (step 5)."""
    secrets = folder / "secrets"
    secrets.mkdir()
    bare = {"PATH": os.environ["PATH"], "HOME": str(folder), "PYTHONPATH": str(ROOT)}
    generating = {name: subprocess.Popen([FLASK, "keys", "generate"], cwd=folder, env=bare,
                                         stdout=subprocess.PIPE, text=True)
                  for name in ("SECRET_KEY", "DATA_KEY")}
    files = {}
    for name, generator in generating.items():
        key, _ = generator.communicate(timeout=180)  # a loaded machine: tens of seconds
        assert generator.returncode == 0 and len(key.strip()) >= 32, name
        files[f"CUSTODIAN_{name}_FILE"] = _secret_file(secrets, name, key)
    files["CUSTODIAN_OIDC_CLIENT_SECRET_FILE"] = _secret_file(secrets, "client", CLIENT_SECRET)
    # As `openssl genpkey -algorithm ed25519 -out audit-signing.pem` writes it (step 10).
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    files["CUSTODIAN_AUDIT_SIGNING_KEY_FILE"] = _secret_file(secrets, AUDIT_KEY, pem.decode())
    return {
        # The machine's, and this checkout's code rather than what the venv installed.
        **bare,
        "PATH": f"{postgres_bin()}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
        f"{os.environ['PATH']}",
        **files,
        "CUSTODIAN_ENV": "production",
        "CUSTODIAN_PUBLIC_URL": base_url,
        "CUSTODIAN_DATABASE_URL": app_url(cluster, "custodian_app"),
        "CUSTODIAN_STORAGE_BACKEND": "s3",
        "CUSTODIAN_S3_BUCKET": store.bucket,
        "CUSTODIAN_S3_ENDPOINT_URL": store.endpoint_url,
        "CUSTODIAN_S3_ADDRESSING_STYLE": "path",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "CUSTODIAN_OIDC_DISCOVERY_URL": provider.discovery_url,
        "CUSTODIAN_OIDC_CLIENT_ID": CLIENT_ID,
    }


def _secret_file(folder: Path, name: str, value: str) -> str:
    path = folder / name
    path.write_text(value)
    path.chmod(0o600)
    return str(path)


def _set_up_database(cluster: PostgresCluster, environment: dict[str, str]) -> None:
    """Step 3 as written: the superuser makes the roles and the database, the owner migrates
    and grants the app role its rights."""
    libpq = {"PGHOST": "127.0.0.1", "PGPORT": str(cluster.port), "PGUSER": "postgres"}
    for step in ("database-setup", "database-release"):
        done = run(runbook(step), {**environment, **libpq}, cluster)
        assert done.returncode == 0, f"{step}: {done.stderr}"


def _serve(
    stack: ExitStack, held: HeldPort, environment: dict[str, str], certificate: Path,
    private_key: Path, log: Path,
) -> subprocess.Popen[bytes]:
    sock = held.listen()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [GUNICORN, "--config", str(GUNICORN_CONFIG), "--workers", "2",
             "--bind", f"fd://{sock.fileno()}", "--certfile", str(certificate),
             "--keyfile", str(private_key), "app:create_app()"],
            cwd=ROOT, env=environment, stdout=output, stderr=output,
            pass_fds=(sock.fileno(),),
        )

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    stack.callback(stop)
    return process


def _wait_until_ready(site: Site) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if site.process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {site.log.read_text()[-3000:]}")
        try:
            ready = site.client().get(f"{site.base_url}/readyz", timeout=2)
            if ready.status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{site.base_url} was not ready: {site.log.read_text()[-3000:]}")


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own authority: clients are told to trust it,
    as they would trust an institution's CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "service.crt", folder / "service.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path
