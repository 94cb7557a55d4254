"""RetryPolicy on its own: backoff, a server's own wait, and a deadline that bounds the total wait."""

from __future__ import annotations

import dataclasses

import pytest
from hub_emulator import HubEmulator
from weights_copy.errors import RetryDeadlineError, TransientError
from weights_copy.hub import HubApi
from weights_copy.retry import RetryPolicy, with_retries


class Clock:
    """A monotonic clock that moves only when the policy sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def _failing(retry_after: float | None, times: int = 100) -> object:
    calls = {"n": 0}

    def action() -> str:
        calls["n"] += 1
        if calls["n"] <= times:
            raise TransientError("the Hub answered 429", retry_after=retry_after)
        return "done"

    action.calls = calls  # type: ignore[attr-defined]
    return action


def test_without_a_deadline_waits_what_the_server_asks() -> None:
    clock = Clock()
    policy = RetryPolicy(attempts=3, sleep=clock.sleep, clock=clock)
    assert with_retries(_failing(40.0, times=2), policy, "list x") == "done"  # type: ignore[arg-type]
    assert clock.waits == [40.0, 40.0]


def test_a_server_wait_past_the_monotonic_deadline_fails_at_once_saying_how_long_it_asked() -> None:
    clock = Clock()
    policy = RetryPolicy(attempts=8, sleep=clock.sleep, clock=clock, deadline=clock.now + 60)
    action = _failing(120.0)
    with pytest.raises(RetryDeadlineError, match=r"list x: .*429.*asked to wait 120s.*60s left") as raised:
        with_retries(action, policy, "list x")  # type: ignore[arg-type]
    assert clock.waits == [] and action.calls["n"] == 1  # type: ignore[attr-defined]
    assert raised.value.wait == 120.0 and raised.value.seconds_left == 60.0
    assert not isinstance(raised.value, TransientError)  # no outer retry loop waits again


def test_a_callable_deadline_gives_seconds_left_and_waits_that_fit_still_happen() -> None:
    clock = Clock()
    left = {"s": 25.0}

    def seconds_left() -> float:
        return left["s"] - (clock.now - 1000.0)

    policy = RetryPolicy(attempts=8, sleep=clock.sleep, clock=clock, deadline=seconds_left)
    with pytest.raises(RetryDeadlineError, match=r"asked to wait 10s, .*5s left"):
        with_retries(_failing(10.0), policy, "resolve f")  # type: ignore[arg-type]
    assert clock.waits == [10.0, 10.0]  # 25s left: two waits of 10s fit, the third does not


def test_a_backoff_past_the_deadline_says_it_is_a_backoff() -> None:
    clock = Clock()
    policy = RetryPolicy(attempts=8, base_delay=4.0, sleep=clock.sleep, clock=clock, deadline=lambda: 1.0)
    with pytest.raises(RetryDeadlineError, match=r"next retry in .*s would pass the deadline \(1s left\)"):
        with_retries(_failing(None), policy, "get f")  # type: ignore[arg-type]


def test_hub_api_passes_a_deadline_through_to_its_retry_policy() -> None:
    hub = HubApi("http://127.0.0.1:9", deadline=lambda: 3.0)
    assert hub.retry.deadline is not None and hub.retry.seconds_left() == 3.0
    base = RetryPolicy(attempts=2)
    with_base = HubApi("http://127.0.0.1:9", retry=base, deadline=99.0)
    assert with_base.retry == dataclasses.replace(base, deadline=99.0)
    assert HubApi("http://127.0.0.1:9", retry=base).retry is base


def test_a_rate_limited_listing_fails_at_once_when_the_lambda_has_too_little_time_left(hub: HubEmulator) -> None:
    hub.add_repo("acme/tiny", {"config.json": b"{}"})
    hub.fail("429", "/api/models/", times=1)  # Retry-After: 1
    clock = Clock()
    api = HubApi(hub.endpoint, retry=RetryPolicy(sleep=clock.sleep, clock=clock), deadline=lambda: 0.5)
    with pytest.raises(RetryDeadlineError, match=r"rate limited.*asked to wait 1s"):
        api.snapshot("acme/tiny", "main")
    assert clock.waits == []
