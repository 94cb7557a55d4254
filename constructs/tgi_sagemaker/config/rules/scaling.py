"""``scaling``: the bounds of either mode with its defaults filled in, and what each mode can and cannot do."""

from __future__ import annotations

from dataclasses import dataclass

from tgi_sagemaker import defaults, limits
from tgi_sagemaker.catalog.instance_types import InstanceFigures
from tgi_sagemaker.catalog.sizing import copies_that_fit
from tgi_sagemaker.config.errors import Problems
from tgi_sagemaker.config.spec import DeploymentSpec


@dataclass(frozen=True)
class ScalingPlan:
    """Scaling bounds with the mode's defaults filled in."""

    mode: str
    min_instances: int
    max_instances: int
    min_copies: int
    max_copies: int
    min_memory_mb: int


_MODE_ONLY_FIELDS = {
    "instances": ("invocations_per_instance",),
    "scale_to_zero": (
        "min_copies",
        "max_copies",
        "concurrent_requests_per_copy",
        "scale_out_from_zero_cooldown_seconds",
        "min_memory_mb",
    ),
}
# Share of a copy's slice of host memory (instance memory x its GPUs / all GPUs) reserved for it by default.
DEFAULT_MEMORY_SHARE = 0.5


def resolve_scaling(
    spec: DeploymentSpec, instance: InstanceFigures | None, num_gpus: int | None, problems: Problems
) -> ScalingPlan | None:
    scaling = spec.scaling
    mode = scaling.mode
    for other_mode, fields in _MODE_ONLY_FIELDS.items():
        for name in fields:
            if other_mode != mode and name in scaling.model_fields_set:
                # A model on a shared endpoint is an inference component: its mode is scale_to_zero only.
                problems.add(
                    f"scaling.{name}",
                    getattr(scaling, name),
                    f"only used with scaling.mode '{other_mode}' (it is '{mode}')",
                    f"remove it, or set scaling.mode to '{other_mode}'"
                    if spec.endpoint is None
                    else "remove it: a model on a shared endpoint scales its copies (scale_to_zero)",
                )
    min_instances = scaling.min_instances
    if min_instances is None:
        min_instances = (
            defaults.MIN_INSTANCES_WITH_SCALE_TO_ZERO
            if mode == "scale_to_zero"
            else defaults.MIN_INSTANCES_WITH_INSTANCES
        )
    if mode == "instances" and min_instances < limits.MIN_VARIANT_INSTANCES:
        problems.add(
            "scaling.min_instances",
            min_instances,
            "an instance-based variant keeps at least one instance",
            f"set it to {limits.MIN_VARIANT_INSTANCES} or more, or use scaling.mode 'scale_to_zero' to reach zero",
        )
    if min_instances > scaling.max_instances:
        problems.add(
            "scaling.min_instances",
            min_instances,
            f"above scaling.max_instances ({scaling.max_instances})",
            "make min_instances <= max_instances",
        )
    if mode == "scale_to_zero":
        # On a shared endpoint a model may keep copies warm while the others scale to zero (the endpoint's
        # min_instances must hold them: rules/shared_endpoint.py).
        kept_warm = (("min_copies", scaling.min_copies),) if spec.endpoint is None else ()
        for name, value in (*kept_warm, ("min_instances", min_instances)):
            if value > 0:
                problems.add(
                    f"scaling.{name}",
                    value,
                    "with it above 0 the endpoint never scales to zero",
                    f"set scaling.{name} to 0, or use scaling.mode 'instances' for an always-on endpoint",
                )
    if instance is None or num_gpus is None:
        return None
    room = copies_that_fit(instance, scaling.max_instances, num_gpus)
    default_max_copies = room if spec.endpoint is None else min(room, defaults.MAX_COPIES_ON_SHARED_ENDPOINT)
    max_copies = scaling.max_copies if scaling.max_copies is not None else default_max_copies
    if max_copies > room:
        # On a shared endpoint max_instances is the endpoint's (the deployment may not set it).
        max_instances = f"endpoints[{spec.endpoint}].max_instances" if spec.endpoint else "scaling.max_instances"
        problems.add(
            "scaling.max_copies",
            max_copies,
            f"a copy takes {num_gpus} of the {instance.gpu_count} GPU(s) of {instance.name}: "
            f"{room} fit on {max_instances} ({scaling.max_instances})",
            f"set it to at most {room} or raise {max_instances}",
        )
    if scaling.min_copies > max_copies:
        problems.add(
            "scaling.min_copies",
            scaling.min_copies,
            f"above scaling.max_copies ({max_copies})",
            "make min_copies <= max_copies",
        )
    memory_slice_mb = instance.memory_gib * 1024 * num_gpus // instance.gpu_count
    min_memory_mb = scaling.min_memory_mb or int(memory_slice_mb * DEFAULT_MEMORY_SHARE)
    if min_memory_mb > memory_slice_mb:
        problems.add(
            "scaling.min_memory_mb",
            min_memory_mb,
            f"a copy with {num_gpus} GPU(s) on {instance.name} can reserve at most {memory_slice_mb} MB of host memory",
            f"set it to at most {memory_slice_mb}",
        )
    return ScalingPlan(mode, min_instances, scaling.max_instances, scaling.min_copies, max_copies, min_memory_mb)
