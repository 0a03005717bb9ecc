"""The rule URL issuance follows: the store's last check, trusted for its interval."""

from __future__ import annotations

import pytest

from datasets.storage import StorageUnavailable
from datasets.storage.health import StoreHealth


class Store:
    """A check that counts its calls and fails while ``down``."""

    def __init__(self) -> None:
        self.down = False
        self.checks = 0

    def check(self) -> None:
        self.checks += 1
        if self.down:
            raise StorageUnavailable("no answer")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def parts() -> tuple[Store, Clock, StoreHealth]:
    store, clock = Store(), Clock()
    return store, clock, StoreHealth(store.check, interval=10, monotonic=clock)


def test_first_question_checks_and_the_answer_is_trusted_for_the_interval(
    parts: tuple[Store, Clock, StoreHealth],
) -> None:
    store, clock, health = parts
    assert health.is_up() and store.checks == 1
    store.down = True
    clock.now += 9.9
    assert health.is_up() and store.checks == 1  # still within the interval: not asked
    clock.now += 0.1
    assert not health.is_up() and store.checks == 2


def test_a_failed_check_refuses_until_a_later_check_succeeds(
    parts: tuple[Store, Clock, StoreHealth],
) -> None:
    store, clock, health = parts
    store.down = True
    with pytest.raises(StorageUnavailable):
        health.check()
    assert not health.is_up() and store.checks == 1
    store.down = False
    clock.now += 5
    assert not health.is_up()
    clock.now += 5
    assert health.is_up() and store.checks == 2


def test_a_readiness_probe_checks_afresh_and_updates_what_issuance_trusts(
    parts: tuple[Store, Clock, StoreHealth],
) -> None:
    store, _, health = parts
    assert health.is_up()
    store.down = True
    with pytest.raises(StorageUnavailable):
        health.check()  # within the interval, yet asked: a probe always asks
    assert not health.is_up() and store.checks == 2
