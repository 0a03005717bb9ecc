"""Settings are validated at start-up; a bad one names its variable."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from app import create_app
from config import SettingsError, load_settings
from config.identity import OidcProvider

PRODUCTION = {
    "CUSTODIAN_DATABASE_URL": "sqlite:///:memory:",
    "CUSTODIAN_SECRET_KEY": "s" * 40,
    "CUSTODIAN_URL_SIGNING_KEY": "u" * 40,
    "CUSTODIAN_DATA_KEY": "d" * 40,
    "CUSTODIAN_STORAGE_ROOT": "/srv/custodian/storage",
    "CUSTODIAN_OIDC_DISCOVERY_URL": "https://idp.example/.well-known/openid-configuration",
    "CUSTODIAN_OIDC_CLIENT_ID": "custodian",
    "CUSTODIAN_OIDC_CLIENT_SECRET": "c" * 20,
    "CUSTODIAN_AUDIT_SIGNING_KEY": "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=",  # 32 x "k"
}


def without(name: str) -> dict[str, str]:
    return {key: value for key, value in PRODUCTION.items() if key != name}


def test_production_is_the_default_and_loads_complete_settings() -> None:
    settings = load_settings(PRODUCTION)
    assert settings.environment == "production"
    assert not settings.dev_idp_enabled


@pytest.mark.parametrize("missing", sorted(PRODUCTION))
def test_each_missing_required_setting_stops_start_up_naming_it(missing: str) -> None:
    with pytest.raises(SettingsError, match=missing):
        load_settings(without(missing))


@pytest.mark.parametrize(
    "name, value",
    [
        ("CUSTODIAN_PORT", "eighty"),
        ("CUSTODIAN_PORT", "70000"),
        ("CUSTODIAN_ENV", "staging"),
        ("CUSTODIAN_SIGNED_URL_SECONDS", "-1"),
        ("CUSTODIAN_SIGNED_URL_MAX_SECONDS", "soon"),
        ("CUSTODIAN_PUBLIC_URL", "ftp://host"),
        ("CUSTODIAN_OIDC_DISCOVERY_URL", "not a url"),
        ("CUSTODIAN_SECRET_KEY", "short"),
        ("CUSTODIAN_DATA_KEY", "short"),
        ("CUSTODIAN_API_TOKEN_DAYS", "0"),
    ],
)
def test_malformed_setting_names_itself(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({**PRODUCTION, name: value})


def test_default_lifetime_above_hard_maximum_is_refused() -> None:
    with pytest.raises(SettingsError, match="SIGNED_URL_SECONDS"):
        load_settings({**PRODUCTION, "CUSTODIAN_SIGNED_URL_SECONDS": "7200"})


def test_dev_idp_cannot_be_enabled_in_production() -> None:
    with pytest.raises(SettingsError, match="DEV_IDP"):
        load_settings({**PRODUCTION, "CUSTODIAN_DEV_IDP": "true"})


def test_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "key"
    secret_file.write_text("f" * 48 + "\n")
    environ = without("CUSTODIAN_SECRET_KEY") | {"CUSTODIAN_SECRET_KEY_FILE": str(secret_file)}
    assert load_settings(environ).secret_key == "f" * 48


def test_unreadable_secret_file_names_the_variable(tmp_path: Path) -> None:
    environ = without("CUSTODIAN_SECRET_KEY") | {
        "CUSTODIAN_SECRET_KEY_FILE": str(tmp_path / "missing")
    }
    with pytest.raises(SettingsError, match="CUSTODIAN_SECRET_KEY_FILE"):
        load_settings(environ)


def test_demo_generates_persists_and_reuses_its_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = {"CUSTODIAN_ENV": "demo", "CUSTODIAN_INSTANCE_DIR": str(tmp_path)}
    first = load_settings(environ)
    assert "generated secrets" in capsys.readouterr().err
    secrets_file = tmp_path / "demo-secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert set(json.loads(secrets_file.read_text())) >= {"SECRET_KEY", "URL_SIGNING_KEY"}
    second = load_settings(environ)
    assert "generated secrets" not in capsys.readouterr().err
    assert first.secret_key == second.secret_key
    assert first.url_signing_key == second.url_signing_key
    assert second.dev_idp_enabled and second.database_url.startswith("sqlite:///")


def test_production_cookies_are_secure_and_dev_idp_is_not_mounted() -> None:
    # No sequencer thread on a database without tables (tests/integration cover the thread).
    app = create_app(load_settings({**PRODUCTION, "CUSTODIAN_AUDIT_SEQUENCER": "in_transaction"}))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.test_client().get("/dev-idp/.well-known/openid-configuration").status_code == 404


def test_the_sequencer_integrates_in_the_transaction_on_sqlite_and_in_a_thread_on_postgresql(
    tmp_path: Path,
) -> None:
    postgresql = {**PRODUCTION, "CUSTODIAN_DATABASE_URL": "postgresql+psycopg://db/custodian"}
    assert load_settings(PRODUCTION).audit_sequencer == "in_transaction"
    assert load_settings(postgresql).audit_sequencer == "thread"
    assert (
        load_settings({**PRODUCTION, "CUSTODIAN_AUDIT_SEQUENCER": "thread"}).audit_sequencer
        == "thread"
    )
    demo = {"CUSTODIAN_ENV": "demo", "CUSTODIAN_INSTANCE_DIR": str(tmp_path)}
    assert load_settings(demo).audit_sequencer == "in_transaction"
    demo_on_postgresql = {**demo, "CUSTODIAN_DATABASE_URL": "postgresql+psycopg://db/custodian"}
    assert load_settings(demo_on_postgresql).audit_sequencer == "in_transaction"
    # In production on PostgreSQL every audited commit would wait for the chain lock.
    with pytest.raises(SettingsError, match="CUSTODIAN_AUDIT_SEQUENCER=in_transaction"):
        load_settings({**postgresql, "CUSTODIAN_AUDIT_SEQUENCER": "in_transaction"})
    with pytest.raises(SettingsError, match="CUSTODIAN_AUDIT_SEQUENCER"):
        load_settings({**PRODUCTION, "CUSTODIAN_AUDIT_SEQUENCER": "after_commit"})


def test_port_variable_sets_the_public_url() -> None:
    assert load_settings({**PRODUCTION, "PORT": "8123"}).public_url == "http://127.0.0.1:8123"


def test_pool_and_proxy_settings_are_validated() -> None:
    settings = load_settings(
        {**PRODUCTION, "CUSTODIAN_DB_POOL_SIZE": "20", "CUSTODIAN_TRUSTED_PROXIES": "1"}
    )
    assert settings.db_pool_size == 20 and settings.trusted_proxies == 1
    with pytest.raises(SettingsError, match="CUSTODIAN_DB_POOL_SIZE"):
        load_settings({**PRODUCTION, "CUSTODIAN_DB_POOL_SIZE": "0"})
    with pytest.raises(SettingsError, match="CUSTODIAN_TRUSTED_PROXIES"):
        load_settings({**PRODUCTION, "CUSTODIAN_TRUSTED_PROXIES": "many"})


def test_previous_keys_for_rotation_are_read_and_checked() -> None:
    settings = load_settings(
        {**PRODUCTION, "CUSTODIAN_URL_SIGNING_KEY_PREVIOUS": "a" * 32 + ", " + "b" * 32}
    )
    assert settings.url_signing_keys_previous == (b"a" * 32, b"b" * 32)
    with pytest.raises(SettingsError, match="CUSTODIAN_SECRET_KEY_PREVIOUS"):
        load_settings({**PRODUCTION, "CUSTODIAN_SECRET_KEY_PREVIOUS": "short"})


def test_sessions_signed_with_a_previous_secret_key_stay_valid() -> None:
    from flask.sessions import SecureCookieSessionInterface

    old_app = create_app(load_settings({**PRODUCTION, "CUSTODIAN_SECRET_KEY": "o" * 40}))
    with old_app.test_request_context():
        from flask import session

        session["csrf_token"] = "kept"
        signer = SecureCookieSessionInterface().get_signing_serializer(old_app)
        assert signer is not None
        cookie = signer.dumps(dict(session))
    rotated = create_app(
        load_settings(
            {
                **PRODUCTION,
                "CUSTODIAN_SECRET_KEY": "n" * 40,
                "CUSTODIAN_SECRET_KEY_PREVIOUS": "o" * 40,
            }
        )
    )
    serializer = SecureCookieSessionInterface().get_signing_serializer(rotated)
    assert serializer is not None and serializer.loads(cookie) == {"csrf_token": "kept"}


def test_keys_generate_prints_a_fresh_key_that_settings_accept() -> None:
    app = create_app(load_settings(PRODUCTION))
    first = app.test_cli_runner().invoke(args=["keys", "generate"]).output.strip()
    second = app.test_cli_runner().invoke(args=["keys", "generate"]).output.strip()
    assert first != second and len(first) >= 64
    assert (
        load_settings({**PRODUCTION, "CUSTODIAN_URL_SIGNING_KEY": first}).url_signing_key
        == first.encode()
    )


def test_database_url_may_come_from_a_file_and_never_shows_in_the_settings_repr(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "database_url"
    secret.write_text("postgresql+psycopg://app:s3cret@db/custodian\n")
    settings = load_settings(
        {**without("CUSTODIAN_DATABASE_URL"), "CUSTODIAN_DATABASE_URL_FILE": str(secret)}
    )
    assert settings.database_url == "postgresql+psycopg://app:s3cret@db/custodian"
    assert "s3cret" not in repr(settings)
    with pytest.raises(SettingsError, match="CUSTODIAN_DATABASE_URL_FILE: cannot read"):
        load_settings(
            {
                **without("CUSTODIAN_DATABASE_URL"),
                "CUSTODIAN_DATABASE_URL_FILE": str(tmp_path / "missing"),
            }
        )


def test_logs_are_json_in_production_and_text_in_demo(tmp_path: Path) -> None:
    assert load_settings(PRODUCTION).log_format == "json"
    demo = {"CUSTODIAN_ENV": "demo", "CUSTODIAN_INSTANCE_DIR": str(tmp_path)}
    assert load_settings(demo).log_format == "text"
    assert load_settings({**demo, "CUSTODIAN_LOG_FORMAT": "json"}).log_format == "json"


@pytest.mark.parametrize(
    "name, value",
    [
        ("CUSTODIAN_LOG_FORMAT", "xml"),
        ("CUSTODIAN_METRICS", "maybe"),
        ("CUSTODIAN_METRICS_PUBLIC", "sometimes"),
    ],
)
def test_malformed_observability_setting_names_itself(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({**PRODUCTION, name: value})


def test_metrics_are_off_by_default() -> None:
    settings = load_settings(PRODUCTION)
    assert not settings.metrics_enabled and settings.metrics_token is None


def test_metrics_need_a_long_token_unless_declared_public() -> None:
    metrics_on = {**PRODUCTION, "CUSTODIAN_METRICS": "on"}
    with pytest.raises(SettingsError, match="CUSTODIAN_METRICS_TOKEN"):
        load_settings(metrics_on)
    with pytest.raises(SettingsError, match="CUSTODIAN_METRICS_TOKEN"):
        load_settings({**metrics_on, "CUSTODIAN_METRICS_TOKEN": "short"})
    assert (
        load_settings({**metrics_on, "CUSTODIAN_METRICS_TOKEN": "t" * 32}).metrics_token == "t" * 32
    )
    public = load_settings({**metrics_on, "CUSTODIAN_METRICS_PUBLIC": "true"})
    assert public.metrics_enabled and public.metrics_public and public.metrics_token is None


def test_metrics_token_can_come_from_a_file(tmp_path: Path) -> None:
    token_file = tmp_path / "metrics-token"
    token_file.write_text("k" * 40 + "\n")
    settings = load_settings(
        {**PRODUCTION, "CUSTODIAN_METRICS": "on", "CUSTODIAN_METRICS_TOKEN_FILE": str(token_file)}
    )
    assert settings.metrics_token == "k" * 40


def test_metrics_token_and_public_metrics_together_are_refused() -> None:
    with pytest.raises(SettingsError, match="CUSTODIAN_METRICS_PUBLIC"):
        load_settings(
            {
                **PRODUCTION,
                "CUSTODIAN_METRICS": "on",
                "CUSTODIAN_METRICS_PUBLIC": "true",
                "CUSTODIAN_METRICS_TOKEN": "t" * 32,
            }
        )


S3 = {"CUSTODIAN_STORAGE_BACKEND": "s3", "CUSTODIAN_S3_BUCKET": "custodian-data"}


def test_s3_backend_needs_a_bucket_but_no_storage_root_or_url_signing_key() -> None:
    environ = without("CUSTODIAN_STORAGE_ROOT") | S3
    del environ["CUSTODIAN_URL_SIGNING_KEY"]
    settings = load_settings(environ)
    assert (settings.storage_backend, settings.s3_bucket) == ("s3", "custodian-data")
    assert (settings.s3_region, settings.s3_addressing_style) == ("us-east-1", "auto")
    assert settings.s3_endpoint_url is None and settings.s3_key_prefix == ""
    with pytest.raises(SettingsError, match="CUSTODIAN_S3_BUCKET"):
        load_settings(environ | {"CUSTODIAN_S3_BUCKET": ""})


def test_local_backend_is_the_default() -> None:
    assert load_settings(PRODUCTION).storage_backend == "local"


@pytest.mark.parametrize(
    "name, value",
    [
        ("CUSTODIAN_STORAGE_BACKEND", "gcs"),
        ("CUSTODIAN_S3_BUCKET", "My_Bucket"),
        ("CUSTODIAN_S3_BUCKET", "ab"),
        ("CUSTODIAN_S3_ENDPOINT_URL", "minio:9000"),
        ("CUSTODIAN_S3_REGION", "US East"),
        ("CUSTODIAN_S3_ADDRESSING_STYLE", "dns"),
    ],
)
def test_malformed_storage_setting_names_itself(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({**PRODUCTION, **S3, name: value})


@pytest.mark.parametrize(
    "value, prefix",
    [
        ("", ""),
        ("/", ""),
        ("custodian", "custodian/"),
        ("/a//b/", "a/b/"),
    ],
)
def test_key_prefix_is_normalised_to_a_folder(value: str, prefix: str) -> None:
    settings = load_settings(
        {
            **PRODUCTION,
            **S3,
            "CUSTODIAN_S3_KEY_PREFIX": value,
            "CUSTODIAN_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
            "CUSTODIAN_S3_ADDRESSING_STYLE": "path",
        }
    )
    assert settings.s3_key_prefix == prefix
    assert settings.s3_endpoint_url == "http://127.0.0.1:9000"


SEVERAL_PROVIDERS = {
    **{key: value for key, value in PRODUCTION.items() if not key.startswith("CUSTODIAN_OIDC_")},
    "CUSTODIAN_OIDC_PROVIDERS": "nih, ORCID",
    "CUSTODIAN_OIDC_NIH_DISCOVERY_URL": "https://nih.example/.well-known/openid-configuration",
    "CUSTODIAN_OIDC_NIH_CLIENT_ID": "custodian",
    "CUSTODIAN_OIDC_NIH_CLIENT_SECRET": "n" * 20,
    "CUSTODIAN_OIDC_NIH_LABEL": "NIH RAS",
    "CUSTODIAN_OIDC_ORCID_DISCOVERY_URL": "https://orcid.example/.well-known/openid-configuration",
    "CUSTODIAN_OIDC_ORCID_CLIENT_ID": "APP-1",
    "CUSTODIAN_OIDC_ORCID_CLIENT_SECRET": "o" * 20,
}


def test_single_provider_variables_define_the_only_provider() -> None:
    assert load_settings(PRODUCTION).oidc_providers == (
        OidcProvider(
            "default", "Sign in", PRODUCTION["CUSTODIAN_OIDC_DISCOVERY_URL"], "custodian", "c" * 20
        ),
    )


def test_demo_signs_in_at_the_embedded_idp_by_default(tmp_path: Path) -> None:
    settings = load_settings({"CUSTODIAN_ENV": "demo", "CUSTODIAN_INSTANCE_DIR": str(tmp_path)})
    [provider] = settings.oidc_providers
    assert provider.discovery_url == f"{settings.dev_idp_issuer}/.well-known/openid-configuration"
    assert (provider.client_id, provider.client_secret) == (
        "custodian",
        settings.dev_idp_client_secret,
    )


def test_several_providers_each_come_from_their_own_variables() -> None:
    nih, orcid = load_settings(SEVERAL_PROVIDERS).oidc_providers
    assert nih == OidcProvider(
        "nih",
        "NIH RAS",
        SEVERAL_PROVIDERS["CUSTODIAN_OIDC_NIH_DISCOVERY_URL"],
        "custodian",
        "n" * 20,
    )
    assert (orcid.name, orcid.label, orcid.client_id) == ("orcid", "orcid", "APP-1")


def test_provider_client_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "orcid-secret"
    secret_file.write_text("from-a-file\n")
    environ = {**SEVERAL_PROVIDERS, "CUSTODIAN_OIDC_ORCID_CLIENT_SECRET_FILE": str(secret_file)}
    del environ["CUSTODIAN_OIDC_ORCID_CLIENT_SECRET"]
    assert load_settings(environ).oidc_providers[1].client_secret == "from-a-file"


def test_provider_client_secrets_stay_out_of_repr() -> None:
    assert "n" * 20 not in repr(load_settings(SEVERAL_PROVIDERS))


@pytest.mark.parametrize(
    "missing",
    [
        "CUSTODIAN_OIDC_ORCID_DISCOVERY_URL",
        "CUSTODIAN_OIDC_ORCID_CLIENT_ID",
        "CUSTODIAN_OIDC_ORCID_CLIENT_SECRET",
    ],
)
def test_each_missing_provider_setting_names_itself(missing: str) -> None:
    environ = {key: value for key, value in SEVERAL_PROVIDERS.items() if key != missing}
    with pytest.raises(SettingsError, match=missing):
        load_settings(environ)


@pytest.mark.parametrize(
    "name, value",
    [
        ("CUSTODIAN_OIDC_PROVIDERS", "nih,,orcid"),
        ("CUSTODIAN_OIDC_PROVIDERS", "nih-ras"),
        ("CUSTODIAN_OIDC_PROVIDERS", "nih,orcid,NIH"),
        ("CUSTODIAN_OIDC_NIH_DISCOVERY_URL", "nih.example"),
    ],
)
def test_malformed_provider_setting_names_itself(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({**SEVERAL_PROVIDERS, name: value})


@pytest.mark.parametrize(
    "single",
    [
        "CUSTODIAN_OIDC_DISCOVERY_URL",
        "CUSTODIAN_OIDC_CLIENT_ID",
        "CUSTODIAN_OIDC_CLIENT_SECRET",
    ],
)
def test_single_provider_variables_cannot_be_mixed_with_a_provider_list(single: str) -> None:
    with pytest.raises(SettingsError, match=f"{single} cannot be combined"):
        load_settings({**SEVERAL_PROVIDERS, single: PRODUCTION[single]})


def test_alert_thresholds_have_defaults_and_can_be_set() -> None:
    assert (
        load_settings(PRODUCTION).alert_downloads_per_hour,
        load_settings(PRODUCTION).alert_refusals_per_hour,
    ) == (50, 10)
    settings = load_settings(
        {
            **PRODUCTION,
            "CUSTODIAN_ALERT_DOWNLOADS_PER_HOUR": "500",
            "CUSTODIAN_ALERT_REFUSALS_PER_HOUR": "3",
        }
    )
    assert (settings.alert_downloads_per_hour, settings.alert_refusals_per_hour) == (500, 3)


@pytest.mark.parametrize(
    "name",
    [
        "CUSTODIAN_ALERT_DOWNLOADS_PER_HOUR",
        "CUSTODIAN_ALERT_REFUSALS_PER_HOUR",
    ],
)
@pytest.mark.parametrize("value", ["0", "-5", "many", "2000000"])
def test_malformed_alert_threshold_names_itself(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({**PRODUCTION, name: value})
