"""The token lifetime and DRS bulk settings: defaults, bounds, and their order."""

from __future__ import annotations

import pytest

from config import SettingsError, load_settings
from tests.unit.test_settings import PRODUCTION


def test_defaults_are_30_days_within_90_and_100_bulk_items() -> None:
    settings = load_settings(PRODUCTION)
    assert (settings.api_token_days, settings.api_token_max_days) == (30, 90)
    assert settings.drs_max_bulk_request_length == 100


def test_operators_can_set_them() -> None:
    settings = load_settings({**PRODUCTION, "CUSTODIAN_API_TOKEN_DAYS": "7",
                              "CUSTODIAN_API_TOKEN_MAX_DAYS": "14",
                              "CUSTODIAN_DRS_MAX_BULK_REQUEST_LENGTH": "5"})
    assert (settings.api_token_days, settings.api_token_max_days) == (7, 14)
    assert settings.drs_max_bulk_request_length == 5


def test_default_lifetime_beyond_the_maximum_stops_start_up() -> None:
    with pytest.raises(SettingsError, match="API_TOKEN_DAYS"):
        load_settings({**PRODUCTION, "CUSTODIAN_API_TOKEN_DAYS": "60",
                       "CUSTODIAN_API_TOKEN_MAX_DAYS": "30"})


@pytest.mark.parametrize(("name", "value"), [
    ("CUSTODIAN_API_TOKEN_MAX_DAYS", "0"), ("CUSTODIAN_API_TOKEN_MAX_DAYS", "366"),
    ("CUSTODIAN_API_TOKEN_MAX_DAYS", "ninety"), ("CUSTODIAN_DRS_MAX_BULK_REQUEST_LENGTH", "0"),
    ("CUSTODIAN_DRS_MAX_BULK_REQUEST_LENGTH", "10001"),
])
def test_out_of_range_values_name_their_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({**PRODUCTION, name: value})


def test_drs_names_aws_and_its_region_only_for_amazon_s3_itself() -> None:
    from datasets.drs.objects import cloud_region

    s3 = {**PRODUCTION, "CUSTODIAN_STORAGE_BACKEND": "s3", "CUSTODIAN_S3_BUCKET": "gtex",
          "CUSTODIAN_S3_REGION": "eu-west-2"}
    assert cloud_region(load_settings(s3)) == ("aws", "eu-west-2")
    assert cloud_region(load_settings({**s3, "CUSTODIAN_S3_ENDPOINT_URL":
                                       "https://minio.example.org"})) is None
    assert cloud_region(load_settings(PRODUCTION)) is None
