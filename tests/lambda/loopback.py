"""The handlers driven as CloudFormation and the state machine drive them, with every AWS client on moto's server."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config
from emulated_models import REPO
from weights_copy import handlers

TOKEN = "hf_handlerSecretToken"
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/Handlers/0f0e0d0c-0b0a-0908-0706-050403020100"


class LoopbackClients(handlers.Clients):
    def __init__(self, environ: dict[str, str], s3_endpoint: str) -> None:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        super().__init__(environ, session)
        self.endpoint = s3_endpoint

    def client(self, name: str, config: Config | None = None) -> Any:
        return self.session.client(name, endpoint_url=self.endpoint, config=config)


class FinishedExecution:
    def __init__(self, status: str, cause: str = "") -> None:
        self.status, self.cause = status, cause

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        return {"executionArn": executionArn, "status": self.status, "cause": self.cause}


class WithExecution(LoopbackClients):
    def __init__(self, base: LoopbackClients, execution: FinishedExecution) -> None:
        super().__init__(base.environ, base.endpoint)
        self.execution = execution

    def client(self, name: str, config: Config | None = None) -> Any:
        return self.execution if name == "stepfunctions" else super().client(name, config)


def create(clients: LoopbackClients, revision: str | None = "main") -> dict[str, Any]:
    """CloudFormation's Create as the provider framework passes it on (the rehearsal plays the real one); no
    revision: the Revision property left out, as HubWeightsCopy does when it is not given."""
    properties = {"RepoId": REPO, **({"Revision": revision} if revision is not None else {})}
    event = {
        "RequestType": "Create",
        "StackId": STACK_ID,
        "LogicalResourceId": "WeightsCopy",
        "ResourceProperties": properties,
    }
    return handlers.on_event(event, clients=clients)


def update(clients: LoopbackClients, physical_id: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """An Update (or the rollback Update that swaps ``old`` and ``new``) of the same resource."""
    event = {
        "RequestType": "Update",
        "StackId": STACK_ID,
        "LogicalResourceId": "WeightsCopy",
        "PhysicalResourceId": physical_id,
        "OldResourceProperties": old,
        "ResourceProperties": new,
    }
    return handlers.on_event(event, clients=clients)


def run_copy(s3: Any, clients: LoopbackClients, created: dict[str, Any]) -> None:
    """What the state machine does with a Create's execution: copy_file for every Map item."""
    execution = clients.client("stepfunctions").describe_execution(executionArn=created["Data"]["ExecutionArn"])
    items = json.loads(s3.get_object(Bucket=s3.bucket, Key=json.loads(execution["input"])["items_key"])["Body"].read())
    for item in items:
        handlers.copy_file(item, clients=clients)
