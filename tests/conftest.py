from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # before aws_cdk starts its kernel

from helpers import Synthesized, default_config, shared_config, synthesize


@pytest.fixture(scope="session")
def default_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The default deployment of cdk.json, synthesized once for the whole session."""
    return synthesize(default_config(), Path(tmp_path_factory.mktemp("default-app")))


@pytest.fixture(scope="session")
def shared_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """config/shared.yaml (three models on one endpoint), synthesized once for the whole session."""
    return synthesize(shared_config(), Path(tmp_path_factory.mktemp("shared-app")))
