"""What a SageMaker bench target runs on, asked of SageMaker itself, so ``--instance`` is needed only for a URL
target or to override.

An endpoint's instance type is its endpoint config's: ``DescribeEndpoint`` names the config, and
``DescribeEndpointConfig``'s ``ProductionVariants`` carry each variant's ``InstanceType``. An inference component
(``NAME:COMPONENT``) takes a share of its variant's instance: ``DescribeInferenceComponent`` gives the variant
(``VariantName``), the accelerators each copy needs
(``Specification.ComputeResourceRequirements.NumberOfAcceleratorDevicesRequired``) and, where the component names
one, its own ``Specification.InstanceType``. Field names as botocore's ``sagemaker`` service model has them.

Each failure is one line that says what was asked, what SageMaker answered and what to pass instead.
"""

from __future__ import annotations

from typing import Any

from tgi_sagemaker.catalog.instance_types import INSTANCE_TYPES
from tgi_sagemaker.cli.cost import ServingShare


class NotDiscovered(ValueError):
    """SageMaker could not say what a target runs on; the message is one line, with the fix."""


def discover_share(client: Any, target: str, endpoint_name: str, inference_component: str | None) -> ServingShare:
    """The instance type (and an inference component's GPUs) behind one bench target, through a boto3
    ``sagemaker`` client; raises :class:`NotDiscovered`."""
    fix = f"Fix: pass --instance {target}=INSTANCE[:GPUS], e.g. --instance {target}=ml.g6e.xlarge"
    if inference_component is None:
        variants = _variants(client, target, endpoint_name, fix)
        types = sorted({variant.get("InstanceType") or "serverless" for variant in variants})
        if len(types) != 1 or types[0] == "serverless":
            raise NotDiscovered(
                f"{target}: endpoint {endpoint_name} has variants on {', '.join(types)}, no single instance to "
                f"price. {fix}"
            )
        return ServingShare(types[0], found_by=f"DescribeEndpointConfig of {endpoint_name}")
    component = _call(client, target, "describe_inference_component", fix, InferenceComponentName=inference_component)
    specification = component.get("Specification", {})
    devices = specification.get("ComputeResourceRequirements", {}).get("NumberOfAcceleratorDevicesRequired")
    instance_type = specification.get("InstanceType") or _variant_instance(
        _variants(client, target, component["EndpointName"], fix), component.get("VariantName"), target, fix
    )
    if devices is None or devices != int(devices) or devices < 1:
        raise NotDiscovered(
            f"{target}: inference component {inference_component} asks for {devices} accelerators, not a whole "
            f"number of GPUs of {instance_type}. {fix}"
        )
    known = INSTANCE_TYPES.get(instance_type)
    if known is None:  # its GPU count, and so the component's share, is not known here
        raise NotDiscovered(
            f"{target}: {instance_type} is not in the catalog, so its GPU count and the component's share of it "
            f"are unknown here. {fix}"
        )
    if devices > known.gpu_count:
        raise NotDiscovered(
            f"{target}: inference component {inference_component} asks for {devices:g} GPUs, {instance_type} has "
            f"{known.gpu_count}. {fix}"
        )
    return ServingShare(instance_type, int(devices), found_by=f"DescribeInferenceComponent of {inference_component}")


def _variants(client: Any, target: str, endpoint_name: str, fix: str) -> list[dict[str, Any]]:
    endpoint = _call(client, target, "describe_endpoint", fix, EndpointName=endpoint_name)
    config = _call(client, target, "describe_endpoint_config", fix, EndpointConfigName=endpoint["EndpointConfigName"])
    variants: list[dict[str, Any]] = config["ProductionVariants"]
    return variants


def _variant_instance(variants: list[dict[str, Any]], name: str | None, target: str, fix: str) -> str:
    chosen = [variant for variant in variants if name is None or variant["VariantName"] == name]
    types = {variant.get("InstanceType") for variant in chosen}
    if len(types) != 1 or None in types:
        raise NotDiscovered(f"{target}: the component's variant {name} has no single instance type. {fix}")
    (instance_type,) = types
    return str(instance_type)


def _call(client: Any, target: str, operation: str, fix: str, **parameters: str) -> dict[str, Any]:
    """One Describe call; its failure as one line: the call, SageMaker's code and message, the fix."""
    from botocore.exceptions import BotoCoreError, ClientError

    asked = f"{target}: {_api_name(operation)}({', '.join(f'{key}={value}' for key, value in parameters.items())})"
    try:
        response: dict[str, Any] = getattr(client, operation)(**parameters)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        message = " ".join(str(error.response.get("Error", {}).get("Message", "")).split())
        why = (
            f"not allowed (needs sagemaker:{_api_name(operation)})"
            if code in ("AccessDeniedException", "AccessDenied")
            else "not found"
            if code == "ValidationException" and "could not find" in message.lower()
            else code
        )
        raise NotDiscovered(f"{asked}: {why}: {message}. {fix}") from None
    except BotoCoreError as error:  # no credentials, no network
        raise NotDiscovered(f"{asked}: {' '.join(str(error).split())}. {fix}") from None
    return response


def _api_name(operation: str) -> str:
    return "".join(part.capitalize() for part in operation.split("_"))
