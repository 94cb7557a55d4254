"""Retries with exponential backoff that honour a server's own wait hint (Retry-After, RateLimit t=)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from weights_copy.errors import TransientError

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_server_wait: float = 310.0  # a Hub rate-limit window is 5 minutes
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def delay(self, attempt: int, error: TransientError) -> float:
        if error.retry_after is not None:
            return min(error.retry_after, self.max_server_wait)
        backoff = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return backoff * (0.5 + random.random() / 2)  # jitter: parallel parts do not retry in lockstep


def with_retries(
    action: Callable[[], T], policy: RetryPolicy, what: str, on_retry: Callable[[TransientError], None] | None = None
) -> T:
    """Run ``action``; on ``TransientError`` wait and try again, up to ``policy.attempts`` times."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return action()
        except TransientError as error:
            if attempt == policy.attempts:
                raise
            wait = policy.delay(attempt, error)
            log.warning("%s: %s; retry %d/%d in %.1fs", what, error, attempt, policy.attempts - 1, wait)
            policy.sleep(wait)
    raise AssertionError("unreachable")
