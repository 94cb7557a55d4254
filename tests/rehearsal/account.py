"""One AWS account as the rehearsal builds it: the network, IAM and its evaluator, the AWS gateway in front of moto,
Lambda, Step Functions, CloudFormation's response bucket, and the Hub emulator at huggingface.co."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from rehearsal.assembly import StackArtifact
from rehearsal.aws_gateway import AwsGateway, Credentials
from rehearsal.cloudformation import ResponseBox, Stack
from rehearsal.iam import Decision, Iam, Principal
from rehearsal.lambda_service import LambdaService
from rehearsal.network import AWS_NAMES, CDN_HOST, CFN_RESPONSE_HOST, HUB_HOST, REGION, Network
from rehearsal.step_functions import StepFunctions

ADMIN = ("rehearsal-admin", "rehearsal-admin")


class Account:
    def __init__(self, folder: Path, wait_scale: float = 0.01) -> None:
        self.folder = folder
        self.wait_scale = wait_scale
        self.network = network = Network(folder / "network")
        self.moto_endpoint, self._moto = _start_moto()
        self.iam = Iam()
        self.credentials = Credentials()
        self.bucket_policies: dict[str, dict[str, Any]] = {}
        self.gateway = AwsGateway(network, self.iam, self.credentials, self.moto_endpoint, self.bucket_policies)
        self.lambdas = LambdaService(folder / "lambda", network, self.credentials)
        self.step_functions = StepFunctions(self.iam, self.lambdas, lambda p: self.client("s3", p), wait_scale)
        self.gateway.services.update({"states": self.step_functions, "lambda": self.lambdas})
        self.responses = ResponseBox()
        self.gateway.cfn_responses = self.responses.put
        self.gateway.secret_arns = self._secret_arn
        self.gateway.secret_keys = self._secret_key
        self.requests: list[dict[str, Any]] = []  # every custom-resource request CloudFormation sent
        self.log_writes: list[Decision] = []  # whether each function's role may write its log group
        for name in (*AWS_NAMES, CFN_RESPONSE_HOST):
            network.route(name, self.gateway.address)

    def connect_hub(self, addresses: dict[str, tuple[str, int]]) -> None:
        """Route huggingface.co and its CDN to a Hub emulator serving TLS with ``network.server_context()`` and
        handing out signed URLs at ``https://cdn-lfs.hf.co``."""
        self.network.route(HUB_HOST, addresses["hub"])
        self.network.route(CDN_HOST, addresses["cdn"])

    def close(self) -> None:
        self.lambdas.close()
        self.gateway.close()
        self.iam.close()
        self._moto.terminate()
        self._moto.wait(timeout=10)

    # --- clients -----------------------------------------------------------------------------------------------
    def admin(self, service: str) -> Any:
        """A client straight to moto, past IAM: the account owner setting up or inspecting."""
        return boto3.client(
            service,
            endpoint_url=self.moto_endpoint,
            region_name=REGION,
            aws_access_key_id=ADMIN[0],
            aws_secret_access_key=ADMIN[1],
            config=Config(retries={"max_attempts": 1}),
        )

    def client(self, service: str, principal: Principal) -> Any:
        """A client acting as ``principal``, through the AWS gateway (IAM enforced)."""
        key, secret, token = self.credentials(principal)
        host, port = self.gateway.address
        return boto3.client(
            service,
            endpoint_url=f"https://{host}:{port}",
            region_name=REGION,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            verify=str(self.network.ca_file),
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
        )

    def _secret_key(self, secret_id: str) -> str | None:
        try:
            key = self.admin("secretsmanager").describe_secret(SecretId=secret_id).get("KmsKeyId")
        except Exception:
            return None
        return str(key) if key and ":key/" in str(key) else None  # not aws/secretsmanager

    def _secret_arn(self, secret_id: str) -> str | None:
        try:
            return str(self.admin("secretsmanager").describe_secret(SecretId=secret_id)["ARN"])
        except Exception:
            return None

    # --- CloudFormation ----------------------------------------------------------------------------------------
    def stack(self, artifact: StackArtifact, name: str | None = None) -> Stack:
        return Stack(self, artifact, name)

    def custom_resource_response(self, event: dict[str, Any], timeout_seconds: float) -> dict[str, Any] | None:
        """Invoke the ServiceToken function as CloudFormation does (asynchronously) and wait for the response.

        The wait is the resource's ServiceTimeout on the scaled clock plus a minute: invocations take real time
        that the scaled clock does not shrink, and CloudFormation's hour must not run out before the provider's own
        total timeout (55 minutes) does."""
        self.requests.append(event)
        self.lambdas.invoke_async(event["ServiceToken"], event, retry_delay=60 * self.wait_scale)
        return self.responses.wait(event["RequestId"], timeout_seconds * self.wait_scale + 60)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_moto() -> tuple[str, subprocess.Popen[bytes]]:
    """moto in a process of its own: the functions' S3 traffic then uses the second core."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true"},
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2)
            return endpoint, process
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("moto's server did not start") from None
            time.sleep(0.2)
