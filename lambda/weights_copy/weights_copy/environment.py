"""The copy functions' environment, defined once: the contract between ``HubWeightsCopy``, which sets it, and the
handlers, which read it (each side once spelled the names on its own, and on_event went without STATE_MACHINE_ARN).

Every handler reads only the variables of its ``FunctionEnvironment``, and ``HubWeightsCopy`` sets on each function
exactly those: every required one, and an optional one when it is configured. Tests hold both sides to it: what the
handlers read when driven through every request (tests/lambda/test_environment.py), and what the synthesized
template sets on each function (tests/library/test_hub_weights_copy.py).

Standard library only, and no import of the other engine modules: the library imports this module from the runtime
it ships, as ``tgi_sagemaker.hub_weights_copy.runtime.weights_copy.environment``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

BUCKET = "BUCKET"
"""The weights bucket's name."""
STATE_MACHINE_ARN = "STATE_MACHINE_ARN"
"""The copy state machine, which on_event starts (and a Delete stops)."""
HF_ENDPOINT = "HF_ENDPOINT"
"""The Hub, or a mirror."""
HF_TOKEN_SECRET_ID = "HF_TOKEN_SECRET_ID"
"""The Secrets Manager secret holding a Hub token; unset: no token."""
PART_SIZE_MB = "PART_SIZE_MB"
MAX_IN_FLIGHT = "MAX_IN_FLIGHT"
DELETE_OBJECTS_ON_DELETE = "DELETE_OBJECTS_ON_DELETE"
"""``true``: a Delete removes the commit's objects and records too; ``false``: they stay."""


@dataclass(frozen=True)
class FunctionEnvironment:
    """The variables one handler reads."""

    handler: str
    """The function's handler setting, e.g. ``weights_copy.handlers.on_event``."""
    required: frozenset[str]
    optional: frozenset[str] = frozenset()

    @property
    def names(self) -> frozenset[str]:
        return self.required | self.optional

    def variables(self, values: Mapping[str, str]) -> dict[str, str]:
        """The variables to set on this handler's function: of every value the caller has, those the handler reads,
        in the caller's order. A required one without a value is an error (the function would fail when run)."""
        missing = sorted(self.required - values.keys())
        if missing:
            raise ValueError(f"{self.handler} reads {', '.join(missing)}: give a value for each")
        return {name: value for name, value in values.items() if name in self.names}


COPY_FILE = FunctionEnvironment(
    "weights_copy.handlers.copy_file",
    required=frozenset({HF_ENDPOINT, PART_SIZE_MB, MAX_IN_FLIGHT}),
    optional=frozenset({HF_TOKEN_SECRET_ID}),
)
ON_EVENT = FunctionEnvironment(
    "weights_copy.handlers.on_event",
    required=frozenset({BUCKET, STATE_MACHINE_ARN, HF_ENDPOINT, PART_SIZE_MB, MAX_IN_FLIGHT, DELETE_OBJECTS_ON_DELETE}),
    optional=frozenset({HF_TOKEN_SECRET_ID}),
)
IS_COMPLETE = FunctionEnvironment("weights_copy.handlers.is_complete", required=frozenset())
"""is_complete only reads the execution its on_event started (from the provider's event): no variable."""
FUNCTIONS = (COPY_FILE, ON_EVENT, IS_COMPLETE)
