"""``endpoints`` and ``deployments[].endpoint``: several models on one inference-component endpoint.

A deployment that names a shared endpoint is resolved with the endpoint's instance type, network and instance
bounds (``deployment_on``); setting them on the deployment is a problem that says where they belong. Once its
deployments are resolved, the endpoint is checked as a whole: what SageMaker applies endpoint-wide (network
isolation, the AMI) must suit every model, and the models' copies must fit its instances (``packing``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tgi_sagemaker.catalog.instance_types import InstanceFigures
from tgi_sagemaker.config.errors import Problems
from tgi_sagemaker.config.rules.operations import check_retention_and_notification
from tgi_sagemaker.config.rules.packing import ComponentDemand, copies_per_instance, instances_needed, pack
from tgi_sagemaker.config.spec import DeploymentSpec, SharedEndpointSpec

# Deployment fields a shared endpoint owns -> the endpoint's field that sets them.
ENDPOINT_OWNED_FIELDS = {
    "instance_type": "instance_type",
    "network": "network",
    "scaling.min_instances": "min_instances",
    "scaling.max_instances": "max_instances",
}
ENDPOINT_OWNED_OPERATIONS = ("dashboard", "alarm_emails", "alarm_topic_arn", "log_retention_days")


def check_deployment_fields(spec: DeploymentSpec, endpoint_path: str, problems: Problems) -> None:
    """What a deployment on a shared endpoint may not set: the endpoint's instances, network and operations."""
    for path, endpoint_field in ENDPOINT_OWNED_FIELDS.items():
        section, _, name = path.rpartition(".")
        owner = getattr(spec, section) if section else spec
        if name in owner.model_fields_set:
            problems.add(
                path,
                _shown(getattr(owner, name)),
                f"set by the shared endpoint this deployment runs on ({endpoint_path}): every model there shares "
                "its instances",
                f"remove it here, and set {endpoint_path}.{endpoint_field} instead",
            )
    if spec.scaling.mode != "scale_to_zero":
        problems.add(
            "scaling.mode",
            spec.scaling.mode,
            "a model on a shared endpoint is an inference component, whose copies scale to zero on their own",
            "remove scaling.mode (scale_to_zero), or remove endpoint to give this model its own instance-based "
            "endpoint",
        )
    for name in ENDPOINT_OWNED_OPERATIONS:
        if name in spec.operations.model_fields_set:
            problems.add(
                f"operations.{name}",
                _shown(getattr(spec.operations, name)),
                f"the shared endpoint's: one dashboard and one alarm topic serve every model on {endpoint_path}",
                f"remove it here, and set {endpoint_path}.operations.{name} instead",
            )


def deployment_on(spec: DeploymentSpec, endpoint: SharedEndpointSpec) -> DeploymentSpec:
    """The deployment as the rules resolve it: with the endpoint's instance type and network, and its copies on
    up to the endpoint's max_instances (the instances' lower bound is the endpoint's, checked by ``check_packing``)."""
    # Another mode, and instance bounds set on the deployment, are problems of their own (check_deployment_fields);
    # the rest is checked as a component (min_instances left to its default, as the endpoint's is checked apart).
    scaling = spec.scaling.model_copy(
        update={"max_instances": endpoint.max_instances, "min_instances": None, "mode": "scale_to_zero"}
    )
    operations = spec.operations.model_copy(update={"log_retention_days": endpoint.operations.log_retention_days})
    return spec.model_copy(
        update={
            "instance_type": endpoint.instance_type,
            "network": endpoint.network,
            "scaling": scaling,
            "operations": operations,
        }
    )


def endpoint_path_of(problem_field: str, base: str, endpoint_path: str) -> str | None:
    """A problem the rules found in a field the endpoint set for the deployment, as the endpoint's field (so it is
    reported once, where the user wrote it); None for the deployment's own fields."""
    relative = problem_field.removeprefix(f"{base}.")
    for path, endpoint_field in ENDPOINT_OWNED_FIELDS.items():
        if relative == path or relative.startswith(f"{path}."):
            return f"{endpoint_path}.{endpoint_field}{relative.removeprefix(path)}"
    if relative == "operations.log_retention_days":
        return f"{endpoint_path}.operations.log_retention_days"
    return None


def check_endpoint_operations(endpoint: SharedEndpointSpec, problems: Problems) -> None:
    check_retention_and_notification(endpoint.operations, problems)


def check_endpoint_wide_settings(
    names: Sequence[str], weights_sources: Sequence[str], ami_versions: Sequence[str | None], problems: Problems
) -> str | None:
    """Network isolation and the AMI are the endpoint's, so every model must agree on them (problems under
    ``deployments[<name>]``); returns the AMI the endpoint runs (the one any model's image needs)."""
    if len(set(weights_sources)) > 1:
        first = weights_sources[0]
        for name, source in zip(names, weights_sources, strict=True):
            if source != first:
                problems.add(
                    f"deployments[{name}].weights.source",
                    source,
                    f"SageMaker runs every model of a shared endpoint with the endpoint's network isolation, and "
                    f"'{names[0]}' has weights.source '{first}' (s3 weights run isolated, hub weights download "
                    "at start)",
                    f"use weights.source '{first}' for every model on the endpoint, or put this model on another",
                )
    needed = {ami for ami in ami_versions if ami is not None}
    if len(needed) > 1:
        for name, ami in zip(names, ami_versions, strict=True):
            if ami is not None and ami != sorted(needed)[0]:
                problems.add(
                    f"deployments[{name}].runtime",
                    ami,
                    f"its image needs InferenceAmiVersion {ami}, another model's needs {sorted(needed)[0]}, and the "
                    "AMI is the endpoint's",
                    "pick runtime versions whose images need the same AMI, or put this model on another endpoint",
                )
    return next(iter(needed)) if len(needed) == 1 else None


def check_packing(
    endpoint: SharedEndpointSpec,
    instance: InstanceFigures,
    demands: Sequence[ComponentDemand],
    problems: Problems,
    *,
    every_model: bool = True,
) -> None:
    """The models' minimum copies fit the minimum instances, and their maximum copies the maximum instances.
    ``every_model``: false when some model on the endpoint has problems of its own and is not in ``demands``: what
    the others need is then the least the endpoint needs. Default: true."""
    least = "" if every_model else "at least "
    if any(copies_per_instance(d, instance) < 1 for d in demands):
        return  # a copy that fits no instance is already a problem of its deployment (num_gpus, min_memory_mb)
    fewest = {d.name: d.min_copies for d in demands}
    needed = instances_needed(demands, fewest, instance)
    if needed is not None and needed > endpoint.min_instances:
        kept = ", ".join(f"{d.name} {d.min_copies} x {d.gpus_per_copy} GPU" for d in demands if d.min_copies)
        problems.add(
            "min_instances",
            endpoint.min_instances,
            f"the models' minimum copies ({kept}) take {needed} x {instance.name}: the endpoint would never scale "
            f"down to {endpoint.min_instances}",
            f"set min_instances to {least}{needed}, or lower the models' scaling.min_copies",
        )
    most = {d.name: d.max_copies for d in demands}
    packing = pack(demands, most, instance, endpoint.max_instances)
    if not packing.fits:
        stalled = ", ".join(
            f"{name}'s last {count} cop{'y' if count == 1 else 'ies'}" for name, count in packing.unplaced.items()
        )
        total_needed = instances_needed(demands, most, instance)
        raise_to = f"set max_instances to {least}{total_needed}" if total_needed else "raise max_instances"
        problems.add(
            "max_instances",
            endpoint.max_instances,
            f"the models' maximum copies ({_copies_text(demands, 'max')}) do not fit on {endpoint.max_instances} x "
            f"{instance.name} ({instance.gpu_count} GPUs, {instance.memory_gib} GiB each): a scale-out to "
            f"{stalled} would stall, finding no instance with room",
            f"{raise_to}, or lower scaling.max_copies of "
            + ", ".join(f"deployments[{name}]" for name in packing.unplaced),
        )


def _copies_text(demands: Sequence[ComponentDemand], which: str) -> str:
    return ", ".join(
        f"{d.name} {d.max_copies if which == 'max' else d.min_copies} x {d.gpus_per_copy} GPU" for d in demands
    )


def _shown(value: Any) -> Any:
    """A section given where a field was expected is shown by its keys, not its whole content."""
    return sorted(value.model_fields_set) if hasattr(value, "model_fields_set") else value
