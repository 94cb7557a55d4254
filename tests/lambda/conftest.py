"""Real protocol peers on loopback: the Hub emulator and moto's S3 server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from hub_emulator import HubEmulator
from loopback import TOKEN, LoopbackClients
from moto.server import ThreadedMotoServer
from weights_copy import environment


@pytest.fixture
def hub() -> Iterator[HubEmulator]:
    emulator = HubEmulator()
    yield emulator
    emulator.close()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint: str) -> Any:
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, max_pool_connections=32),
    )
    bucket = f"weights-{uuid.uuid4().hex[:12]}"  # one fresh bucket a test: nothing carries over
    client.create_bucket(Bucket=bucket)
    client.bucket = bucket  # type: ignore[attr-defined]
    return client


@pytest.fixture
def clients(hub: HubEmulator, s3: Any, s3_endpoint: str) -> LoopbackClients:
    """The handlers' clients on loopback, with every variable the functions get (a token secret included)."""
    loopback = LoopbackClients({}, s3_endpoint)
    secret = loopback.client("secretsmanager").create_secret(Name=f"hf-token-{s3.bucket}", SecretString=TOKEN)
    role = "arn:aws:iam::123456789012:role/copy"
    machine = loopback.client("stepfunctions").create_state_machine(
        name=f"copy-{s3.bucket}",
        definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}),
        roleArn=role,
    )
    loopback.environ.update(
        {
            environment.BUCKET: s3.bucket,
            environment.STATE_MACHINE_ARN: machine["stateMachineArn"],
            environment.HF_ENDPOINT: hub.endpoint,
            environment.HF_TOKEN_SECRET_ID: secret["ARN"],
            environment.PART_SIZE_MB: "5",
            environment.MAX_IN_FLIGHT: "3",
            environment.DELETE_OBJECTS_ON_DELETE: "false",
        }
    )
    return loopback
