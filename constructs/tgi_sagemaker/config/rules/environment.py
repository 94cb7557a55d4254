"""``environment`` and ``stack_name_prefix``: where the app deploys, and what its stacks are called."""

from __future__ import annotations

from tgi_sagemaker.config.errors import Problems
from tgi_sagemaker.config.spec import AppSpec, DeploymentSpec
from tgi_sagemaker.runtimes.tgi.image import supported_regions


def check_region(app: AppSpec, problems: Problems) -> None:
    region = app.environment.region
    if region is not None and region not in supported_regions():
        problems.add(
            "environment.region",
            region,
            "SageMaker publishes no TGI image in this region",
            f"use one of {', '.join(supported_regions())}",
        )


def stack_name(spec: DeploymentSpec, app: AppSpec | None) -> str:
    """``<stack_name_prefix>[-<environment.name>]-<deployment>``."""
    return named_stack(spec.name, app)


def named_stack(name: str, app: AppSpec | None) -> str:
    """``<stack_name_prefix>[-<environment.name>]-<name>``: a deployment's or a shared endpoint's stack."""
    prefix = app.stack_name_prefix if app else AppSpec.model_fields["stack_name_prefix"].default
    if app and app.environment.name:
        prefix = f"{prefix}-{app.environment.name}"
    return f"{prefix}-{name}"
