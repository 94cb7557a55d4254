"""One environment of a pipeline: its deployment stacks, as a CDK Pipelines stage."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.deployment_stacks import add_deployment_stacks
from stacks.tgi_endpoint_stack import TgiEndpointStack
from tgi_sagemaker import ResolvedApp


class DeploymentStage(cdk.Stage):
    def __init__(self, scope: Construct, construct_id: str, *, app: ResolvedApp, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.deployment_stacks: list[TgiEndpointStack] = add_deployment_stacks(self, app)
