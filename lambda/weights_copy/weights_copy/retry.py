"""Retries with exponential backoff that honour a server's own wait hint (Retry-After, RateLimit t=), within an
optional deadline (a Lambda's remaining time): a wait that would pass it fails at once, saying how long."""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from weights_copy.errors import RetryDeadlineError, TransientError

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_server_wait: float = 310.0  # a Hub rate-limit window is 5 minutes
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    deadline: float | Callable[[], float] | None = field(default=None, repr=False)
    """Bounds the total wait. Default: none. A ``time.monotonic()`` value by which the work must end, or a callable
    giving the seconds left (e.g. ``lambda: context.get_remaining_time_in_millis() / 1000 - 30``)."""
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def delay(self, attempt: int, error: TransientError) -> float:
        if error.retry_after is not None:
            return min(error.retry_after, self.max_server_wait)
        backoff = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return backoff * (0.5 + random.random() / 2)  # jitter: parallel parts do not retry in lockstep

    def seconds_left(self) -> float:
        if self.deadline is None:
            return math.inf
        if callable(self.deadline):
            return self.deadline()
        return self.deadline - self.clock()


def with_retries(
    action: Callable[[], T], policy: RetryPolicy, what: str, on_retry: Callable[[TransientError], None] | None = None
) -> T:
    """Run ``action``; on ``TransientError`` wait and try again, up to ``policy.attempts`` times. A wait that would
    pass ``policy.deadline`` raises ``RetryDeadlineError`` at once instead."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return action()
        except TransientError as error:
            if attempt == policy.attempts:
                raise
            wait = policy.delay(attempt, error)
            left = policy.seconds_left()
            if wait > left:
                raise _past_deadline(what, error, wait, left) from error
            log.warning("%s: %s; retry %d/%d in %.1fs", what, error, attempt, policy.attempts - 1, wait)
            policy.sleep(wait)
    raise AssertionError("unreachable")


def _past_deadline(what: str, error: TransientError, wait: float, left: float) -> RetryDeadlineError:
    left = max(left, 0.0)
    if error.retry_after is not None:
        asked = error.retry_after
        reason = f"the server asked to wait {asked:.0f}s, more than the {left:.0f}s left before the deadline"
    else:
        reason = f"the next retry in {wait:.1f}s would pass the deadline ({left:.0f}s left)"
    return RetryDeadlineError(f"{what}: {error}; {reason}", wait=wait, seconds_left=left)
