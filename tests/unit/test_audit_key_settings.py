"""The audit signing key, checkpoint cadence and log origin come from validated settings."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from config import SettingsError, load_settings
from tests.unit.test_settings import PRODUCTION

SEED = bytes(range(32))


def without_key() -> dict[str, str]:
    return {k: v for k, v in PRODUCTION.items() if k != "CUSTODIAN_AUDIT_SIGNING_KEY"}


def test_production_requires_a_signing_key() -> None:
    with pytest.raises(SettingsError, match="CUSTODIAN_AUDIT_SIGNING_KEY is required"):
        load_settings(without_key())


def test_the_key_may_be_a_pem_file(tmp_path: Path) -> None:
    pem = Ed25519PrivateKey.from_private_bytes(SEED).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    (tmp_path / "audit.pem").write_bytes(pem)
    settings = load_settings({**without_key(),
                              "CUSTODIAN_AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit.pem")})
    assert settings.audit_signing_key == SEED


def test_the_key_may_be_a_base64_seed() -> None:
    settings = load_settings({**PRODUCTION,
                              "CUSTODIAN_AUDIT_SIGNING_KEY": base64.b64encode(SEED).decode()})
    assert settings.audit_signing_key == SEED


@pytest.mark.parametrize("value", [
    base64.b64encode(b"too short").decode(), "not base64 at all!",
    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
])
def test_a_malformed_key_names_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="CUSTODIAN_AUDIT_SIGNING_KEY must be an Ed25519"):
        load_settings({**PRODUCTION, "CUSTODIAN_AUDIT_SIGNING_KEY": value})


def test_checkpoint_cadence_has_a_default_and_is_checked() -> None:
    assert load_settings(PRODUCTION).audit_checkpoint_every == 1000
    assert load_settings({**PRODUCTION, "CUSTODIAN_AUDIT_CHECKPOINT_EVERY": "10"}
                         ).audit_checkpoint_every == 10
    for bad in ("0", "often"):
        with pytest.raises(SettingsError, match="CUSTODIAN_AUDIT_CHECKPOINT_EVERY"):
            load_settings({**PRODUCTION, "CUSTODIAN_AUDIT_CHECKPOINT_EVERY": bad})


def test_the_origin_names_the_public_url_unless_set() -> None:
    public = {**PRODUCTION, "CUSTODIAN_PUBLIC_URL": "https://data.example.org/custodian/"}
    assert load_settings(public).audit_origin == "data.example.org/custodian/audit"
    assert load_settings({**public, "CUSTODIAN_AUDIT_ORIGIN": "example.org/log"}
                         ).audit_origin == "example.org/log"
    with pytest.raises(SettingsError, match="CUSTODIAN_AUDIT_ORIGIN"):
        load_settings({**public, "CUSTODIAN_AUDIT_ORIGIN": "a+b"})


def test_demo_generates_and_keeps_its_signing_key(tmp_path: Path) -> None:
    environ = {"CUSTODIAN_ENV": "demo", "CUSTODIAN_INSTANCE_DIR": str(tmp_path)}
    first = load_settings(environ)
    assert len(first.audit_signing_key) == 32
    assert load_settings(environ).audit_signing_key == first.audit_signing_key


def test_an_older_demo_gets_a_signing_key_and_keeps_its_other_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = {"CUSTODIAN_ENV": "demo", "CUSTODIAN_INSTANCE_DIR": str(tmp_path)}
    secrets_file = tmp_path / "demo-secrets.json"
    older = load_settings(environ)
    stored = json.loads(secrets_file.read_text())
    del stored["AUDIT_SIGNING_KEY"]
    secrets_file.write_text(json.dumps(stored))
    capsys.readouterr()
    upgraded = load_settings(environ)
    assert "added an audit signing key" in capsys.readouterr().err
    assert upgraded.secret_key == older.secret_key
    assert len(upgraded.audit_signing_key) == 32
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert load_settings(environ).audit_signing_key == upgraded.audit_signing_key
