"""A short, human-readable plan of what a config deploys."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from tgi_sagemaker.catalog.instance_types import INSTANCE_TYPES
from tgi_sagemaker.catalog.models import GB, MODELS
from tgi_sagemaker.catalog.sizing import default_num_gpus
from tgi_sagemaker.config.errors import ConfigError, ConfigProblem
from tgi_sagemaker.config.pipeline import ResolvedPipeline
from tgi_sagemaker.config.resolve import ResolvedApp, ResolvedDeployment, ResolvedSharedEndpoint, resolve_deployment
from tgi_sagemaker.config.rules.packing import copies_per_instance, pack
from tgi_sagemaker.config.spec import RUNTIMES, DeploymentSpec, ModelSpec


def describe_app(app: ResolvedApp) -> str:
    where = app.spec.environment.region or "region-agnostic (the region of your AWS credentials)"
    lines = [f"{len(app.deployments)} deployment(s), {where}"]
    for deployment in app.deployments:
        lines += describe_deployment(deployment)
    for endpoint in app.endpoints:
        lines += describe_packing(endpoint)
    return "\n".join(lines)


def describe_packing(endpoint: ResolvedSharedEndpoint) -> list[str]:
    """A shared endpoint's packing: what a copy of each model asks, how many fit an instance, and where the copies
    land at the models' minimum and maximum, with the GPUs and memory left."""
    spec, instance = endpoint.spec, endpoint.instance
    demands = [d.demand for d in endpoint.deployments]
    lines = [
        f"- {endpoint.stack_name}: shared endpoint, {spec.min_instances}-{spec.max_instances} x {instance.name} "
        f"({instance.gpu_count} x {instance.gpu} {instance.gpu_memory_gib} GiB, {instance.memory_gib} GiB memory)"
    ]
    for demand in demands:
        lines.append(
            f"    {demand.name:<14} {demand.gpus_per_copy} GPU + {demand.memory_mb_per_copy} MB a copy, "
            f"{copies_per_instance(demand, instance)} fit an instance, {demand.min_copies}-{demand.max_copies} copies"
        )
    for label, copies, count in (
        ("at minimum", {d.name: d.min_copies for d in demands}, spec.min_instances),
        ("at maximum", {d.name: d.max_copies for d in demands}, spec.max_instances),
    ):
        packing = pack(demands, copies, instance, count)
        lines.append(f"    {label}: {packing.instances_used} of {count} instance(s) used")
        for number, load in enumerate(packing.instances, start=1):
            placed = ", ".join(f"{name} x{n}" for name, n in load.copies.items()) or "empty"
            lines.append(f"      instance {number}: {placed}; headroom {load.gpus_free} GPU, {load.memory_mb_free} MB")
    return lines


def describe_pipeline(pipeline: ResolvedPipeline) -> str:
    spec = pipeline.spec
    source = f"{spec.repository}@{spec.branch} via {spec.connection_arn}"
    lines = [f"pipeline {spec.name} in {spec.account}/{spec.region}: {source}"]
    for number, stage in enumerate(pipeline.stages, start=1):
        checks = [
            "manual approval first" if stage.spec.approval else "no approval",
            "smoke test after" if stage.spec.smoke_test else "no smoke test",
        ]
        lines.append(
            f"stage {number}: {stage.name} ({stage.spec.config}) in {stage.account}/{stage.region}, {', '.join(checks)}"
        )
        lines += ["  " + line for line in describe_app(stage.app).splitlines()[1:]]
    return "\n".join(lines)


def describe_deployment(d: ResolvedDeployment) -> list[str]:
    spec = d.spec
    weights = f"~{d.weights_bytes / GB:.1f} GB" if d.weights_bytes is not None else "size not given"
    revision = spec.model.revision or "default branch (unpinned: pin a commit for production)"
    kv = f", KV cache ~{d.kv_cache_token_capacity} tokens" if d.kv_cache_token_capacity is not None else ""
    scaling, plan = spec.scaling, d.scaling
    network = spec.network
    network_text = {
        "new": f"new VPC ({'NAT egress' if d.network_egress else 'isolated: no internet route, S3 endpoint'})",
        "existing": f"existing VPC, subnets {', '.join(network.subnet_ids)}",
        "none": "no VPC (SageMaker-managed network)",
    }[network.vpc]
    return [
        f"- {d.stack_name}",
        f"    model      {spec.model.id} @ {revision}, weights {weights}",
        "    weights    "
        + (
            "copied once into the stack's S3 bucket at deploy, served from /opt/ml/model with network isolation"
            if spec.weights.source == "s3"
            else "downloaded from the Hub by the container at every start"
        ),
        f"    image      {d.runtime.container_name} {d.image.version} ({d.image.tag})" + _ami(d),
        f"    instance   {d.instance.name}: {d.num_gpus} of {d.instance.gpu_count} x {d.instance.gpu} "
        f"{d.instance.gpu_memory_gib} GiB ({d.runtime.gpus_per_copy_variable}={d.num_gpus})",
        _runtime_line(d) + kv,
        "    env        " + " ".join(f"{key}={value}" for key, value in sorted(_environment(d).items())),
        "    scaling    "
        + (
            f"scale to zero: {plan.min_copies}-{plan.max_copies} copies on {plan.min_instances}-{plan.max_instances} "
            f"instances, target {scaling.concurrent_requests_per_copy:g} concurrent requests/copy, wakes on demand"
            if plan.mode == "scale_to_zero"
            else f"{plan.min_instances}-{plan.max_instances} instances, target "
            f"{scaling.invocations_per_instance:g} invocations/instance/minute"
        ),
        f"    network    {network_text}",
    ]


def _ami(d: ResolvedDeployment) -> str:
    ami = d.runtime.inference_ami_version
    return f", on AMI {ami} (CUDA {'.'.join(map(str, d.image.cuda_version or ()))})" if ami else ""


def _runtime_line(d: ResolvedDeployment) -> str:
    """The runtime's own limits: TGI's token limits, or the context window and memory share of vLLM/SGLang."""
    spec, limits = d.spec, d.token_limits
    if spec.runtime == "vllm":
        return (
            f"    vllm       max_model_len={limits.max_total_tokens} "
            f"gpu_memory_utilization={spec.vllm.gpu_memory_utilization:g}"
        )
    if spec.runtime == "sglang":
        return (
            f"    sglang     context_length={limits.max_total_tokens} "
            f"mem_fraction_static={spec.sglang.mem_fraction_static:g}"
        )
    return (
        f"    tgi        MAX_INPUT_TOKENS={limits.max_input_tokens} MAX_TOTAL_TOKENS={limits.max_total_tokens} "
        f"MAX_BATCH_PREFILL_TOKENS={limits.max_batch_prefill_tokens} "
        f"MAX_CONCURRENT_REQUESTS={spec.tgi.max_concurrent_requests}"
    )


def _environment(d: ResolvedDeployment) -> dict[str, str]:
    """The container environment as deployed (the model's location as the weights source sets it; no token)."""
    return {**d.runtime.model_environment(d.model_location), **d.settings_environment}


def catalog_entries() -> list[dict[str, Any]]:
    """Every catalog model with the instance types it fits (GPUs there) and the defaults a deployment of it gets
    on its recommended instance, resolved by the same rules as a config. Raises ``ConfigError`` for an entry
    that does not resolve (an error in the catalog)."""
    entries = []
    problems: list[ConfigProblem] = []
    for model in MODELS.values():
        fits = {
            name: gpus
            for name, it in INSTANCE_TYPES.items()
            if (gpus := default_num_gpus(model.weights_bytes, it, model.attention)) is not None
        }
        by_runtime = {}
        for runtime in RUNTIMES:
            spec = DeploymentSpec(name="catalog", model=ModelSpec(id=model.repo_id), runtime=runtime)
            try:
                by_runtime[runtime] = resolve_deployment(spec, app=None, base=f"catalog[{model.repo_id}]")
            except ConfigError as error:
                problems += error.problems
        if len(by_runtime) < len(RUNTIMES):
            continue
        resolved = by_runtime["tgi"]
        defaults = {
            "instance_type": resolved.instance.name,
            "num_gpus": resolved.num_gpus,
            **asdict(resolved.token_limits),
            "kv_cache_token_capacity": resolved.kv_cache_token_capacity,
            # The KV cache each runtime's memory share leaves next to the weights (TGI's is the one above).
            "kv_cache_tokens_by_runtime": {name: d.kv_cache_token_capacity for name, d in by_runtime.items()},
        }
        entries.append({**asdict(model), "fits": fits, "defaults": defaults})
    if problems:
        raise ConfigError(problems, "the catalog")
    return entries
