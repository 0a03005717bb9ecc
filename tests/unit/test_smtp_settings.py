"""The SMTP settings of the notification outbox: defaults, the password file, bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import SettingsError, load_settings
from tests.unit.test_settings import PRODUCTION


def test_email_is_off_by_default_with_safe_defaults() -> None:
    settings = load_settings({**PRODUCTION, "CUSTODIAN_PUBLIC_URL": "https://data.example.org"})
    assert settings.smtp_host is None
    assert (settings.smtp_port, settings.smtp_starttls) == (587, True)
    assert settings.smtp_from == "custodian@data.example.org"
    assert settings.smtp_username is None and settings.smtp_password is None


def test_password_comes_from_a_file_and_stays_out_of_repr(tmp_path: Path) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("hunter2-but-longer\n")
    settings = load_settings({**PRODUCTION, "CUSTODIAN_SMTP_HOST": "smtp.example.org",
                              "CUSTODIAN_SMTP_USERNAME": "custodian",
                              "CUSTODIAN_SMTP_PASSWORD_FILE": str(secret),
                              "CUSTODIAN_SMTP_STARTTLS": "false", "CUSTODIAN_SMTP_PORT": "25"})
    assert settings.smtp_password == "hunter2-but-longer"
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == (
        "smtp.example.org", 25, False)
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize(("name", "value"), [
    ("CUSTODIAN_SMTP_PORT", "0"), ("CUSTODIAN_SMTP_PORT", "smtp"),
    ("CUSTODIAN_SMTP_STARTTLS", "maybe"), ("CUSTODIAN_SMTP_FROM", "not an address"),
    ("CUSTODIAN_SMTP_PASSWORD_FILE", "/nonexistent/smtp-password"),
])
def test_bad_smtp_setting_stops_start_up_naming_it(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({**PRODUCTION, name: value})


def test_the_relays_ca_file_is_read_at_start_up(tmp_path: Path) -> None:
    import trustme

    bundle = tmp_path / "relay-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    settings = load_settings({**PRODUCTION, "CUSTODIAN_SMTP_CA_FILE": str(bundle)})
    assert settings.smtp_ca_file == bundle
    assert load_settings(PRODUCTION).smtp_ca_file is None  # the system's roots


@pytest.mark.parametrize("content", [None, "not a certificate\n", ""])
def test_a_ca_file_that_is_missing_or_holds_no_certificate_stops_start_up(
    tmp_path: Path, content: str | None
) -> None:
    bundle = tmp_path / "relay-ca.pem"
    if content is not None:
        bundle.write_text(content)
    with pytest.raises(SettingsError, match="CUSTODIAN_SMTP_CA_FILE"):
        load_settings({**PRODUCTION, "CUSTODIAN_SMTP_CA_FILE": str(bundle)})
