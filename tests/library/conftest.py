"""Builders the construct tests share: a fresh stack, and a TGI model in it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest

from tgi_sagemaker import HubWeights, TgiImage, TgiModel

MODEL_ID = "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"


@pytest.fixture
def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Stack")


@pytest.fixture
def make_model(stack: cdk.Stack) -> Callable[..., TgiModel]:
    """``make_model(**props)``: a TGI model of Hub weights in ``stack`` (``construct_id`` names another)."""

    def make(construct_id: str = "Model", **props: Any) -> TgiModel:
        return TgiModel(stack, construct_id, image=TgiImage.of("3.3.6"), weights=HubWeights(repo_id=MODEL_ID), **props)

    return make
