"""``instance_type`` and ``num_gpus``: the instance a deployment runs on and the GPUs a model copy is sharded over.

A value left open is decided here: the catalog's recommended instance, and every GPU the model can be sharded over
where its weights fit. A model that cannot fit is a problem that names instance types that would.
"""

from __future__ import annotations

from tgi_sagemaker.catalog.instance_types import GIB, InstanceFigures, find_instance_type, similar_instance_types
from tgi_sagemaker.catalog.models import GB, CatalogModel
from tgi_sagemaker.catalog.sizing import (
    MAX_WEIGHTS_SHARE,
    default_num_gpus,
    fitting_instance_types,
    gpu_counts,
    weights_fit,
)
from tgi_sagemaker.config.errors import Problems
from tgi_sagemaker.config.rules.packing import fewest_gpus
from tgi_sagemaker.config.spec import DeploymentSpec

_SERVER_NAMES = {"tgi": "TGI", "vllm": "vLLM (tensor parallelism)", "sglang": "SGLang (tensor parallelism)"}
_INSTANCE_FIX = "use a g5, g6, g6e, p4d, p4de, p5, p5e or p5en type with the 'ml.' prefix, e.g. 'ml.g5.2xlarge'"


def resolve_instance(spec: DeploymentSpec, model: CatalogModel | None, problems: Problems) -> InstanceFigures | None:
    """The instance type named, else the catalog model's recommended one; None only with a problem added."""
    if spec.instance_type is None:
        if model is not None:
            return _recommended_instance(model, problems)
        problems.add(
            "instance_type",
            None,
            f"model '{spec.model.id}' is not in the catalog, so there is no recommended instance",
            "name an instance type, e.g. 'ml.g6e.xlarge' (`tgi-sagemaker catalog` lists them)",
        )
        return None
    instance = find_instance_type(spec.instance_type)
    if instance is None:
        close = similar_instance_types(spec.instance_type)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        problems.add(
            "instance_type",
            spec.instance_type,
            "not a SageMaker GPU instance type this library knows",
            hint + _INSTANCE_FIX,
        )
    return instance


def _recommended_instance(model: CatalogModel, problems: Problems) -> InstanceFigures | None:
    instance = find_instance_type(model.recommended_instance)
    if instance is None:  # a catalog entry that names an unknown type: say so rather than resolve nothing
        known = [name for name in model.blog_instances if find_instance_type(name) is not None]
        problems.add(
            "instance_type",
            None,
            f"the catalog recommends '{model.recommended_instance}' for '{model.repo_id}', which is not an instance "
            "type this library knows (an error in the catalog)",
            f"name an instance type, e.g. {', '.join(repr(name) for name in known[:3])}"
            if known
            else "name an instance type (`tgi-sagemaker catalog` lists them)",
        )
    return instance


def resolve_num_gpus(
    spec: DeploymentSpec,
    model: CatalogModel | None,
    instance: InstanceFigures,
    weights_bytes: int | None,
    problems: Problems,
) -> int | None:
    """SM_NUM_GPUS: the count given if the instance has it and TGI can shard over it, else the largest shardable
    count the weights fit on; None only with a problem added."""
    attention = model.attention if model else None
    shardable = gpu_counts(instance, attention)
    if spec.num_gpus is not None:
        if spec.num_gpus > instance.gpu_count:
            problems.add(
                "num_gpus",
                spec.num_gpus,
                f"{instance.name} has {instance.gpu_count} GPU(s)",
                f"use at most {instance.gpu_count}, or an instance type with more GPUs",
            )
            return None
        if spec.num_gpus not in shardable:
            problems.add(
                "num_gpus",
                spec.num_gpus,
                f"{_SERVER_NAMES[spec.runtime]} cannot split this model's attention heads evenly over that many GPUs",
                f"use one of {shardable}",
            )
            return None
        if weights_bytes is not None and not weights_fit(weights_bytes, instance, spec.num_gpus):
            _add_does_not_fit(spec, model, instance, spec.num_gpus, weights_bytes, problems, "num_gpus")
            return None
        return spec.num_gpus
    one_gpu_only = model is None or spec.tgi.quantize == "exl2"
    if one_gpu_only and instance.gpu_count > 1 and weights_bytes is not None:
        # Outside the catalog the attention heads are unknown (TGI needs them to divide by the GPU count), and exl2
        # weights cannot be sharded: one GPU if the weights fit there, else ask rather than guess.
        if weights_fit(weights_bytes, instance, 1):
            return 1
        if weights_fit(weights_bytes, instance, instance.gpu_count):
            problems.add(
                "num_gpus",
                None,
                f"~{weights_bytes / GB:.1f} GB of weights need more than one {instance.gpu} of {instance.name}, and "
                + (
                    "TGI cannot shard exl2 weights"
                    if model is not None
                    else f"model '{spec.model.id}' is not in the catalog: whether its attention heads split evenly "
                    "over several GPUs is unknown"
                ),
                f"set num_gpus to a count that divides num_attention_heads and num_key_value_heads in its "
                f"config.json (one of {gpu_counts(instance, None)[1:]})"
                if model is None
                else "use an instance type with a bigger GPU, or another quantization",
            )
            return None
    # A shared endpoint's GPUs are shared by every model's copies: a copy takes the fewest its weights fit on.
    chosen = (fewest_gpus if spec.endpoint else default_num_gpus)(weights_bytes, instance, attention)
    if chosen is None and weights_bytes is not None:
        _add_does_not_fit(spec, model, instance, shardable[-1] if shardable else 1, weights_bytes, problems)
    return chosen


def _add_does_not_fit(
    spec: DeploymentSpec,
    model: CatalogModel | None,
    instance: InstanceFigures,
    num_gpus: int,
    weights_bytes: int,
    problems: Problems,
    path: str = "instance_type",
) -> None:
    needed = weights_bytes / MAX_WEIGHTS_SHARE / GIB
    available = num_gpus * instance.gpu_memory_gib
    attention, shortlist = (model.attention, model.blog_instances) if model else (None, ())
    fitting = fitting_instance_types(weights_bytes, attention, shortlist)
    fix = f"use {', '.join(fitting)} (they fit)" if fitting else "quantize the model (tgi.quantize)"
    value = spec.num_gpus if path == "num_gpus" else instance.name
    problems.add(
        path,
        value,
        f"model '{spec.model.id}' has ~{weights_bytes / GB:.1f} GB of weights and needs ~{needed:.0f} GiB of GPU "
        f"memory with room for the KV cache; {num_gpus} x {instance.gpu} on {instance.name} has {available} GiB",
        fix,
    )
