"""What the operations constructs watch: a TGI model on one GPU, in a stack of its own."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from tgi_sagemaker import HubWeights, TgiImage, TgiModel


@pytest.fixture
def model() -> TgiModel:
    """Serve it with ``InstanceEndpoint`` or ``ScalableInferenceComponent`` in ``cdk.Stack.of(model)``."""
    return TgiModel(
        cdk.Stack(cdk.App(), "Operations"),
        "Model",
        image=TgiImage.of("3.3.6"),
        weights=HubWeights(repo_id="deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"),
        environment={"SM_NUM_GPUS": "1"},
    )
