"""The handlers' side of the environment contract (``weights_copy.environment``): driven through every request
CloudFormation and the state machine send, each handler reads only the variables its entry lists, and each it
requires. The construct's side is checked on the synthesized template: tests/library/test_hub_weights_copy.py."""

from __future__ import annotations

from typing import Any

import pytest
from emulated_models import REPO, model_files
from hub_emulator import HubEmulator
from loopback import TOKEN, FinishedExecution, LoopbackClients, WithExecution, create, run_copy
from weights_copy import environment, handlers
from weights_copy.environment import COPY_FILE, FUNCTIONS, IS_COMPLETE, ON_EVENT


class RecordingEnviron(dict[str, str]):
    """An environment that remembers which variables were read."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.read.add(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        self.read.add(name)
        return super().get(name, default)


def _recording(clients: LoopbackClients) -> RecordingEnviron:
    clients.environ = RecordingEnviron(clients.environ)
    return clients.environ


def test_each_handler_reads_the_variables_of_its_entry_and_no_other(
    hub: HubEmulator, s3: Any, clients: LoopbackClients
) -> None:
    hub.add_repo(REPO, model_files(shard_bytes=6 * 1024 * 1024), gated=True, approved={TOKEN})
    every_variable = dict(clients.environ)
    reads: dict[str, set[str]] = {contract.handler: set() for contract in FUNCTIONS}

    on_event = _recording(clients)
    created = create(clients)  # a copy to start
    create(clients)  # the same request again: attaches to the running copy
    reads[ON_EVENT.handler] |= on_event.read

    copying = LoopbackClients(every_variable, clients.endpoint)
    copy_file = _recording(copying)
    run_copy(s3, copying, created)
    reads[COPY_FILE.handler] |= copy_file.read

    finished = WithExecution(clients, FinishedExecution("SUCCEEDED"))
    is_complete = _recording(finished)
    assert handlers.is_complete({**created, "RequestType": "Create"}, clients=finished)["IsComplete"]
    reads[IS_COMPLETE.handler] |= is_complete.read

    deleting = LoopbackClients({**every_variable, environment.DELETE_OBJECTS_ON_DELETE: "true"}, clients.endpoint)
    on_delete = _recording(deleting)
    handlers.on_event({"RequestType": "Delete", "PhysicalResourceId": created["PhysicalResourceId"]}, clients=deleting)
    reads[ON_EVENT.handler] |= on_delete.read

    for contract in FUNCTIONS:
        read = reads[contract.handler]
        assert read <= contract.names, f"{contract.handler} reads {sorted(read - contract.names)} too"
        assert contract.required <= read, f"{contract.handler} never reads {sorted(contract.required - read)}"


def test_a_function_environment_without_a_required_value_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="on_event reads BUCKET, STATE_MACHINE_ARN: give a value for each"):
        ON_EVENT.variables({name: "x" for name in ON_EVENT.names - {environment.BUCKET, environment.STATE_MACHINE_ARN}})
    values = {name: name.lower() for contract in FUNCTIONS for name in contract.names}
    assert COPY_FILE.variables(values).keys() == COPY_FILE.names  # only what copy_file reads, the token's included
    assert IS_COMPLETE.variables(values) == {}
