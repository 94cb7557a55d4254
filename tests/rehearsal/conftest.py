"""The rehearsal's fixtures: the cloud assembly written by the real CDK CLI (the default deployment and its weights
variants, one synth), and one rehearsal account with the Hub emulator at huggingface.co."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from hub_emulator import HubEmulator

from helpers import ROOT, default_config, set_path, shared_config
from rehearsal.account import Account
from rehearsal.assembly import CloudAssembly

DEFAULT = default_config()["deployments"][0]["name"]
PINNED_COMMIT = "b" * 40
TOKEN_SECRET = "hf/rehearsal-token"
TOKEN_KEY = "arn:aws:kms:us-east-1:123456789012:key/0e3c2f1a-5b6d-4c7e-8f90-a1b2c3d4e5f6"
# Every weights variant the issue names, as deployments of one app; the default is cdk.json's, unchanged.
VARIANTS: dict[str, dict[str, Any]] = {
    DEFAULT: {},
    "with-token": {"weights.hf_token_secret": "hf/rehearsal-token"},
    "delete-objects": {"weights.delete_objects_on_delete": True},
    "bucket-destroy": {"weights.bucket_removal_policy": "destroy"},
    "pinned": {"model.revision": PINNED_COMMIT},
    "with-token-key": {"weights.hf_token_secret": "hf/rehearsal-token", "weights.hf_token_kms_key_arn": TOKEN_KEY},
}


# config/shared.yaml as it is (#17): three distills on one shared endpoint, one stack, each model its own copy.
SHARED = shared_config()
(SHARED_ENDPOINT,) = (endpoint["name"] for endpoint in SHARED["endpoints"])
SHARED_MODELS = tuple(deployment["model"]["id"] for deployment in SHARED["deployments"])


def stack_name(variant: str) -> str:
    return f"TgiSageMaker-{variant}"


def _variants_config() -> dict[str, Any]:
    config = default_config()
    (default,) = config["deployments"]
    deployments = []
    for name, changes in VARIANTS.items():
        deployment = json.loads(json.dumps(default))
        deployment["name"] = name
        for dotted, value in changes.items():
            set_path(deployment, dotted, value)
        deployments.append(deployment)
    return {**config, "deployments": deployments + SHARED["deployments"], "endpoints": SHARED["endpoints"]}


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    """``cdk synth`` through the real CLI, as ``make synth`` runs it, into a folder of its own."""
    folder = tmp_path_factory.mktemp("rehearsal-synth")
    config = folder / "variants.json"
    config.write_text(json.dumps(_variants_config()))
    outdir = folder / "cdk.out"
    environment = {
        **os.environ,
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_VERSION_CHECK": "1",
    }
    result = subprocess.run(
        [
            str(ROOT / "node_modules" / ".bin" / "cdk"),
            "--no-notices",
            "synth",
            "--quiet",
            "-c",
            f"config={config}",
            "-o",
            str(outdir),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=environment,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return CloudAssembly(outdir)


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    account = Account(tmp_path_factory.mktemp("rehearsal-account"))
    yield account
    account.close()


@pytest.fixture(scope="module")
def module_hub(account: Account) -> Iterator[HubEmulator]:
    emulator = HubEmulator(ssl_context=account.network.server_context(), cdn_url="https://cdn-lfs.hf.co")
    account.connect_hub(emulator.addresses)
    yield emulator
    emulator.close()


@pytest.fixture
def hub(module_hub: HubEmulator) -> HubEmulator:
    """The Hub at huggingface.co, empty and without faults for each test (function processes keep its address)."""
    module_hub.repos.clear()
    module_hub.faults.clear()
    module_hub.requests.clear()
    module_hub.cdn_bytes_per_second = None
    module_hub.rate_limit_reset = 1
    return module_hub
