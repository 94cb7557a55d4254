"""One environment of a pipeline: its deployment stacks, as a CDK Pipelines stage."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.deployment_stacks import DeploymentStacks, SmokeTarget, add_deployment_stacks
from tgi_sagemaker import ResolvedApp


class DeploymentStage(cdk.Stage):
    def __init__(self, scope: Construct, construct_id: str, *, app: ResolvedApp, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.deployment_stacks: DeploymentStacks = add_deployment_stacks(self, app)

    @property
    def stacks(self) -> tuple[cdk.Stack, ...]:
        """Every stack this stage deploys: the deployments' own endpoints' and the shared endpoints'."""
        return self.deployment_stacks.stacks

    @property
    def smoke_targets(self) -> tuple[SmokeTarget, ...]:
        """Every model this stage deploys, once: each own endpoint, each component of each shared endpoint."""
        return self.deployment_stacks.smoke_targets
