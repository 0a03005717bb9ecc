"""The pure parts of the auditors' tools: search keys, time bounds, the chart's geometry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from marshmallow import ValidationError

from audit.log.chain import HASHED_FIELDS
from audit.log.search_keys import search_keys
from audit.review.downloads_chart import HEIGHT, TOP, downloads_chart, nice_ceiling
from audit.review.reports import DayCount, Period
from audit.review.schemas import EventOut, EventSearchIn


@pytest.mark.parametrize("target_type, target_id, details, keys", [
    ("file", "7", {"dataset_id": 2}, (2, 7)),
    ("dataset", "3", {"committee_id": 1}, (3, None)),
    ("grant", "5", {"dataset_id": 4, "user_id": 9}, (4, None)),
    ("storage_key", "phs/x.vcf", {}, (None, None)),
    ("file", "not-a-number", {"dataset_id": "2"}, (2, None)),
    ("file", "99999999999", {"dataset_id": True}, (None, None)),
    ("access_request", "1", {"dataset_ids": [1, 2]}, (None, None)),
    (None, None, {}, (None, None)),
])
def test_search_keys_come_only_from_target_and_details(
    target_type: str | None, target_id: str | None, details: dict[str, object],
    keys: tuple[int | None, int | None],
) -> None:
    assert search_keys(target_type, target_id, details) == keys


def test_every_hashed_field_is_in_the_output_and_the_exports() -> None:
    assert set(HASHED_FIELDS) <= set(EventOut().fields)


@pytest.mark.parametrize("raw, expected", [
    ("2026-01-31", datetime(2026, 1, 31, tzinfo=UTC)),
    ("2026-01-31T08:00", datetime(2026, 1, 31, 8, tzinfo=UTC)),
    ("2026-01-31T08:00:00Z", datetime(2026, 1, 31, 8, tzinfo=UTC)),
    ("2026-01-31T10:00:00+02:00", datetime(2026, 1, 31, 8, tzinfo=UTC)),
    ("2026-01-31T08:00:00.123456Z", datetime(2026, 1, 31, 8, 0, 0, 123456, tzinfo=UTC)),
])
def test_since_takes_dates_and_date_times_in_utc_unless_zoned(raw: str,
                                                               expected: datetime) -> None:
    assert EventSearchIn().load({"since": raw})["since"] == expected


def test_a_bare_date_as_until_includes_that_whole_day() -> None:
    loaded = EventSearchIn().load({"until": "2026-01-31"})
    assert loaded["until"] == datetime(2026, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["yesterday", "31/01/2026", "2026-02-30", "9999-12-31",
                                 "0001-01-01T00:00+01:00", "x" * 41])
def test_unreadable_times_are_refused(raw: str) -> None:
    field = "until" if raw == "9999-12-31" else "since"
    with pytest.raises(ValidationError) as caught:
        EventSearchIn().load({field: raw})
    assert field in caught.value.messages_dict


def test_default_period_is_the_last_thirty_whole_days() -> None:
    now = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
    period = Period.around(None, None, now)
    assert period.until == datetime(2026, 3, 11, tzinfo=UTC)
    assert period.since == datetime(2026, 2, 9, tzinfo=UTC)
    assert len(period.days()) == 30 and period.days()[-1] == date(2026, 3, 10)


@pytest.mark.parametrize("value, ceiling", [(0, 4), (4, 4), (5, 8), (9, 12), (13, 20),
                                            (41, 80), (100, 120), (1234, 2000)])
def test_the_axis_rounds_up_to_four_round_steps(value: int, ceiling: int) -> None:
    assert nice_ceiling(value) == ceiling


def test_chart_draws_two_bars_a_day_scaled_to_the_axis() -> None:
    first = date(2026, 1, 1)
    days = [DayCount(first + timedelta(days=n), n, n // 2) for n in range(20)]
    chart = downloads_chart(days)
    assert len(chart.bars) == 40
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.title == "2026-01-20: 19 URLs issued"
    assert tallest.y >= TOP and chart.baseline <= HEIGHT
    assert [tick.label for tick in chart.y_ticks] == ["0", "5", "10", "15", "20"]
    assert 1 <= len(chart.x_ticks) <= 10
    assert all(bar.height == 0 for bar in chart.bars[:2])
