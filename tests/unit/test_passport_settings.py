"""Passport settings, the visa key with its rotation, and the key cache's fetch rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc import jwt
from joserfc.jwk import KeySet

from access.passports.broker_keys import JwksFetcher, KeysUnavailable
from access.passports.visas import public_jwks, signer_from
from config.env import SettingsError
from config.identity import TrustedBroker
from config.settings import load_settings
from tests.passport_broker import Broker
from tests.unit.test_settings import PRODUCTION


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
        ) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


RSA_PEM = pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
EC_PEM = pem(ec.generate_private_key(ec.SECP256R1()))


def test_trusted_brokers_are_read_as_issuers_with_their_jku_lists() -> None:
    brokers = {"https://broker.example.org": ["https://broker.example.org/jwks"]}
    settings = load_settings({**PRODUCTION, "CUSTODIAN_PASSPORT_TRUSTED_BROKERS":
                              json.dumps(brokers)})
    assert settings.passport_trusted_brokers == (
        TrustedBroker("https://broker.example.org", ("https://broker.example.org/jwks",)),)
    assert load_settings(PRODUCTION).passport_trusted_brokers == ()


@pytest.mark.parametrize("value", ['["https://a.example"]', "{not json",
                                   '{"https://a.example": []}', '{"ftp://a": ["https://k"]}',
                                   '{"https://a.example": ["jwks.json"]}'])
def test_malformed_trusted_brokers_stop_start_up(value: str) -> None:
    with pytest.raises(SettingsError, match="CUSTODIAN_PASSPORT_TRUSTED_BROKERS"):
        load_settings({**PRODUCTION, "CUSTODIAN_PASSPORT_TRUSTED_BROKERS": value})


def test_without_a_visa_key_production_publishes_no_keys_and_signs_nothing() -> None:
    settings = load_settings(PRODUCTION)
    assert settings.visa_signing_key_pem == "" and signer_from(settings) is None
    assert public_jwks(None) == {"keys": []}


@pytest.mark.parametrize("bad", [
    pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),  # noqa: S505
    pem(ec.generate_private_key(ec.SECP384R1())),
    pem(ed25519.Ed25519PrivateKey.generate()),
    "not a key",
])
def test_a_visa_key_must_be_rsa_2048_or_p256(bad: str) -> None:
    with pytest.raises(SettingsError, match="CUSTODIAN_VISA_SIGNING_KEY must be"):
        load_settings({**PRODUCTION, "CUSTODIAN_VISA_SIGNING_KEY": bad})


def test_rotation_publishes_the_previous_key_and_signs_with_the_new_one(tmp_path: Path) -> None:
    key_file = tmp_path / "visa.pem"
    key_file.write_text(RSA_PEM)
    settings = load_settings({**PRODUCTION, "CUSTODIAN_VISA_SIGNING_KEY_FILE": str(key_file),
                              "CUSTODIAN_VISA_SIGNING_KEY_PREVIOUS": EC_PEM + "\n" + EC_PEM})
    signer = signer_from(settings)
    assert signer is not None and signer.algorithm == "RS256"
    published = public_jwks(signer)
    kids = [key["kid"] for key in published["keys"]]
    assert kids[0] == signer.key.kid and len(kids) == 3 and kids[1] != kids[0]
    visa = signer.sign({"iss": settings.public_url, "exp": 2**31})
    decoded = jwt.decode(visa, KeySet.import_key_set(json.loads(json.dumps(published))),
                         algorithms=["RS256"])
    assert decoded.header["kid"] == kids[0]


def test_an_older_demo_gets_a_visa_key_and_keeps_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = {"CUSTODIAN_ENV": "demo", "CUSTODIAN_INSTANCE_DIR": str(tmp_path)}
    older = load_settings(environ)
    secrets_file = tmp_path / "demo-secrets.json"
    stored = json.loads(secrets_file.read_text())
    del stored["VISA_SIGNING_KEY"]
    secrets_file.write_text(json.dumps(stored))
    capsys.readouterr()
    upgraded = load_settings(environ)
    assert "added a visa signing key" in capsys.readouterr().err
    assert upgraded.secret_key == older.secret_key
    signer = signer_from(upgraded)
    assert signer is not None and signer.algorithm == "ES256"
    assert load_settings(environ).visa_signing_key_pem == upgraded.visa_signing_key_pem


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def broker() -> Iterator[Broker]:
    started = Broker().start()
    yield started
    started.stop()


def test_keys_are_cached_and_fetched_again_when_stale_or_for_a_new_kid(broker: Broker) -> None:
    clock = FakeMonotonic()
    fetcher = JwksFetcher(monotonic=clock)
    kid = str(broker.key.kid)
    fetcher.keys_at(broker.jku, kid)
    fetcher.keys_at(broker.jku, kid)
    fetcher.keys_at(broker.jku, "unknown-kid")  # fresh copy: not fetched again so soon
    assert broker.requests == ["/jwks.json"]
    clock.now += 31
    fetcher.keys_at(broker.jku, "unknown-kid")  # the broker may have a new key by now
    assert len(broker.requests) == 2
    clock.now += 301
    fetcher.keys_at(broker.jku, kid)
    assert len(broker.requests) == 3


def test_a_key_url_that_answers_no_jwks_is_unavailable(broker: Broker) -> None:
    with pytest.raises(KeysUnavailable, match="answered 404"):
        JwksFetcher().keys_at(broker.jku.replace("/jwks.json", "/other"), None)
    broker.stop()
    with pytest.raises(KeysUnavailable, match="could not be fetched"):
        JwksFetcher().keys_at(broker.jku, None)
