"""The Lambda handlers end to end, the way CloudFormation and the state machine drive them: on_event (Create)
-> copy_file for every Map item -> is_complete; Delete; failures surfacing with their cause."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from emulated_models import MIB, REPO, model_files
from hub_emulator import HubEmulator
from weights_copy import handlers
from weights_copy.errors import CopyError, GatedRepoError

TOKEN = "hf_handlerSecretToken"


class LoopbackClients(handlers.Clients):
    def __init__(self, environ: dict[str, str], s3_endpoint: str) -> None:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        super().__init__(environ, session)
        self.endpoint = s3_endpoint

    def client(self, name: str, config: Config | None = None) -> Any:
        return self.session.client(name, endpoint_url=self.endpoint, config=config)


@pytest.fixture
def clients(hub: HubEmulator, s3: Any, s3_endpoint: str) -> LoopbackClients:
    loopback = LoopbackClients({}, s3_endpoint)
    secret = loopback.client("secretsmanager").create_secret(Name=f"hf-token-{s3.bucket}", SecretString=TOKEN)
    role = "arn:aws:iam::123456789012:role/copy"
    machine = loopback.client("stepfunctions").create_state_machine(
        name=f"copy-{s3.bucket}",
        definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}),
        roleArn=role,
    )
    loopback.environ.update(
        BUCKET=s3.bucket,
        STATE_MACHINE_ARN=machine["stateMachineArn"],
        HF_ENDPOINT=hub.endpoint,
        HF_TOKEN_SECRET_ID=secret["ARN"],
        PART_SIZE_MB="5",
        MAX_IN_FLIGHT="3",
    )
    return loopback


STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/Handlers/0f0e0d0c-0b0a-0908-0706-050403020100"


def _create(clients: LoopbackClients, revision: str = "main") -> dict[str, Any]:
    """CloudFormation's Create as the provider framework passes it on (the rehearsal plays the real one)."""
    event = {
        "RequestType": "Create",
        "StackId": STACK_ID,
        "LogicalResourceId": "WeightsCopy",
        "ResourceProperties": {"RepoId": REPO, "Revision": revision},
    }
    return handlers.on_event(event, clients=clients)


class FinishedExecution:
    def __init__(self, status: str, cause: str = "") -> None:
        self.status, self.cause = status, cause

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        return {"executionArn": executionArn, "status": self.status, "cause": self.cause}


class WithExecution(LoopbackClients):
    def __init__(self, base: LoopbackClients, execution: FinishedExecution) -> None:
        super().__init__(base.environ, base.endpoint)
        self.execution = execution

    def client(self, name: str) -> Any:
        return self.execution if name == "stepfunctions" else super().client(name)


def test_create_copies_every_file_through_the_map_items(hub: HubEmulator, s3: Any, clients: LoopbackClients) -> None:
    files = model_files(shard_bytes=11 * MIB)
    commit = hub.add_repo(REPO, files, gated=True, approved={TOKEN})
    created = _create(clients)
    prefix = f"models/{REPO}/{commit}/"
    assert created["PhysicalResourceId"] == f"{s3.bucket}/{prefix}@{commit}"
    assert created["Data"]["S3Uri"] == f"s3://{s3.bucket}/{prefix}"
    execution = clients.client("stepfunctions").describe_execution(executionArn=created["Data"]["ExecutionArn"])
    started_with = json.loads(execution["input"])
    items = json.loads(s3.get_object(Bucket=s3.bucket, Key=started_with["items_key"])["Body"].read())
    assert TOKEN not in json.dumps(items) + execution["input"] + json.dumps(created)
    results = [handlers.copy_file(item, clients=clients) for item in items]  # what the Map state does
    assert {r["status"] for r in results} == {"copied"}
    for path, data in files.items():
        assert s3.get_object(Bucket=s3.bucket, Key=prefix + path)["Body"].read() == data
    done = handlers.is_complete(
        {**created, "RequestType": "Create"}, clients=WithExecution(clients, FinishedExecution("SUCCEEDED"))
    )
    assert done == {"IsComplete": True, "Data": {"S3Uri": f"s3://{s3.bucket}/{prefix}", "Commit": commit}}


def test_the_functions_use_the_copy_s3_client(clients: LoopbackClients) -> None:
    """Handlers and copier share ``Clients.s3``: the client tested in test_copier (unsigned payloads, CRC32)."""
    assert clients.s3().meta.config.s3 == {"payload_signing_enabled": False}
    assert clients.copier().s3.meta.config.s3 == {"payload_signing_enabled": False}


def test_is_complete_waits_while_running_and_fails_with_the_cause(clients: LoopbackClients) -> None:
    event = {"RequestType": "Create", "Data": {"ExecutionArn": "arn:x", "S3Uri": "s3://b/p/", "Commit": "c"}}
    assert handlers.is_complete(event, clients=WithExecution(clients, FinishedExecution("RUNNING"))) == {
        "IsComplete": False
    }
    failed = WithExecution(clients, FinishedExecution("FAILED", "GatedRepoError: gated: request access on the Hub"))
    with pytest.raises(CopyError, match="failed \\(FAILED\\): GatedRepoError: gated"):
        handlers.is_complete(event, clients=failed)


def test_create_of_a_gated_repo_without_an_approved_token_fails_at_once(
    hub: HubEmulator, clients: LoopbackClients
) -> None:
    hub.add_repo(REPO, model_files(shard_bytes=64 * 1024), gated=True, approved={"someone-else"})
    with pytest.raises(GatedRepoError, match="not approved"):
        _create(clients)


def test_delete_aborts_unfinished_uploads_and_keeps_objects_unless_asked(
    hub: HubEmulator, s3: Any, clients: LoopbackClients
) -> None:
    commit = hub.add_repo(REPO, model_files(shard_bytes=64 * 1024))
    created = _create(clients)
    prefix = f"models/{REPO}/{commit}/"
    s3.put_object(Bucket=s3.bucket, Key=prefix + "config.json", Body=b"{}")
    s3.create_multipart_upload(Bucket=s3.bucket, Key=prefix + "model-00001-of-00002.safetensors")
    delete = {"RequestType": "Delete", "PhysicalResourceId": created["PhysicalResourceId"]}
    handlers.on_event(delete, clients=clients)
    assert s3.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", []) == []
    assert s3.list_objects_v2(Bucket=s3.bucket, Prefix=prefix)["KeyCount"] == 1
    clients.environ["DELETE_OBJECTS_ON_DELETE"] = "true"
    handlers.on_event(delete, clients=clients)
    assert s3.list_objects_v2(Bucket=s3.bucket, Prefix=prefix)["KeyCount"] == 0
    assert handlers.is_complete(delete, clients=clients) == {"IsComplete": True}


def test_delete_of_a_create_that_never_got_a_prefix_is_a_no_op(clients: LoopbackClients) -> None:
    event = {"RequestType": "Delete", "PhysicalResourceId": "cfn-generated-id"}
    assert handlers.on_event(event, clients=clients) == {"PhysicalResourceId": "cfn-generated-id"}


@pytest.mark.parametrize("stored", [f'{{"HF_TOKEN": "{TOKEN}\\n"}}', f"{TOKEN}\r\n"])
def test_a_token_secret_ending_in_a_line_break_still_works(
    hub: HubEmulator, clients: LoopbackClients, stored: str
) -> None:
    hub.add_repo(REPO, model_files(shard_bytes=64 * 1024), gated=True, approved={TOKEN})
    clients.client("secretsmanager").put_secret_value(
        SecretId=clients.environ["HF_TOKEN_SECRET_ID"], SecretString=stored
    )
    assert _create(clients)["Data"]["Commit"]


def test_a_token_secret_with_a_line_break_inside_fails_without_echoing_it(
    hub: HubEmulator, clients: LoopbackClients
) -> None:
    hub.add_repo(REPO, model_files(shard_bytes=64 * 1024), gated=True, approved={TOKEN})
    broken = f'{{"HF_TOKEN": "{TOKEN[:5]}\\r\\n{TOKEN[5:]}"}}'
    clients.client("secretsmanager").put_secret_value(
        SecretId=clients.environ["HF_TOKEN_SECRET_ID"], SecretString=broken
    )
    with pytest.raises(CopyError, match="control, space or non-ASCII character at position 6") as raised:
        _create(clients)
    assert TOKEN[5:] not in str(raised.value)
