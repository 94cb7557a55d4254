"""TGI and SageMaker-runtime emulators on loopback, and a real boto3 client pointed at the latter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from tgi_emulator import SageMakerRuntimeEmulator, TgiEmulator

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture
def tgi() -> Iterator[TgiEmulator]:
    emulator = TgiEmulator()
    yield emulator
    emulator.close()


@pytest.fixture
def sagemaker(monkeypatch: pytest.MonkeyPatch) -> Iterator[SageMakerRuntimeEmulator]:
    """The emulator, with fake credentials in the environment so boto3 signs (never real AWS: endpoint_url)."""
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    emulator = SageMakerRuntimeEmulator()
    yield emulator
    emulator.close()


@pytest.fixture
def runtime_client(sagemaker: SageMakerRuntimeEmulator) -> Any:
    return boto3.client(
        "sagemaker-runtime", endpoint_url=sagemaker.url, config=Config(retries={"max_attempts": 1, "mode": "standard"})
    )


@pytest.fixture(autouse=True)
def no_price_list_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never AWS in tests: the commands get no Price List client (tests give one, a stub, where they mean to)."""
    monkeypatch.setattr("tgi_sagemaker.cli.pricing.price_list_client", lambda: None)
