"""The rules of one deployment: each resolves a value or adds a problem naming the field, value and fix."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tgi_sagemaker import defaults
from tgi_sagemaker.catalog.instance_types import GIB, InstanceFigures, find_instance_type, similar_instance_types
from tgi_sagemaker.catalog.models import CatalogModel
from tgi_sagemaker.catalog.sizing import (
    DEFAULT_OUTPUT_TOKEN_BUDGET,
    MAX_WEIGHTS_SHARE,
    PREFILL_TOKENS_OVER_INPUT,
    TokenLimits,
    copy_memory_needed_mb,
    default_num_gpus,
    default_token_limits,
    fitting_instance_types,
    gpu_counts,
    weights_bytes_from_parameters,
    weights_fit,
)
from tgi_sagemaker.config.credentials import looks_like_credential
from tgi_sagemaker.config.errors import ConfigProblem
from tgi_sagemaker.config.spec import LOG_RETENTION_DAYS, DeploymentSpec
from tgi_sagemaker.runtimes.tgi.image import TgiImage, UnknownTgiVersionError

GB = 1e9


@dataclass
class Problems:
    """Problems of one deployment; ``base`` is its field path, e.g. ``deployments[llama]`` (empty: the app's)."""

    base: str
    items: list[ConfigProblem] = field(default_factory=list)

    def add(self, path: str, value: Any, problem: str, fix: str) -> None:
        field = f"{self.base}.{path}" if self.base and path else path or self.base
        self.items.append(ConfigProblem(field, value, problem, fix))


def resolve_instance(spec: DeploymentSpec, model: CatalogModel | None, problems: Problems) -> InstanceFigures | None:
    if spec.instance_type is None:
        if model is not None:
            return find_instance_type(model.recommended_instance)
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
            f"{hint}use a g5, g6, g6e, p4d, p4de, p5, p5e or p5en type with the 'ml.' prefix, e.g. 'ml.g5.2xlarge'",
        )
    return instance


def resolve_image(spec: DeploymentSpec, problems: Problems) -> TgiImage | None:
    try:
        return TgiImage.of(spec.tgi.version)
    except UnknownTgiVersionError as error:
        problems.add(
            "tgi.version", spec.tgi.version, "no SageMaker TGI image has this version", str(error).split("; ")[1]
        )
        return None


# Quantizations TGI's server lets DTYPE go with (server cli.py): bitsandbytes keeps the other layers in DTYPE.
_QUANTIZE_WITH_DTYPE = ("bitsandbytes", "bitsandbytes-nf4", "bitsandbytes-fp4")


def check_precision(spec: DeploymentSpec, problems: Problems) -> None:
    tgi = spec.tgi
    if tgi.dtype is not None and tgi.quantize is not None and tgi.quantize not in _QUANTIZE_WITH_DTYPE:
        problems.add(
            "tgi.dtype",
            tgi.dtype,
            f"TGI refuses DTYPE together with QUANTIZE ('{tgi.quantize}')",
            "remove tgi.dtype (the quantized weights decide it) or remove tgi.quantize",
        )
    if tgi.quantize == "exl2" and spec.num_gpus is not None and spec.num_gpus > 1:
        problems.add(
            "num_gpus",
            spec.num_gpus,
            "exl2-quantized models cannot be sharded over several GPUs",
            "set num_gpus to 1 or use another quantization (awq, gptq, marlin)",
        )


def resolve_weights_bytes(spec: DeploymentSpec, model: CatalogModel | None, problems: Problems) -> int | None:
    precision = spec.tgi.quantize or spec.tgi.dtype
    parameters = spec.model.parameters_billion or (model.parameters_billion if model else None)
    if model is not None and precision in (None, model.native_dtype) and spec.model.parameters_billion is None:
        return model.weights_bytes
    if parameters is not None:
        return weights_bytes_from_parameters(parameters, precision or (model.native_dtype if model else "bfloat16"))
    if spec.num_gpus is None:
        problems.add(
            "model.parameters_billion",
            None,
            f"model '{spec.model.id}' is not in the catalog, so its size and GPU needs are unknown",
            "set model.parameters_billion (e.g. 8 for an 8B model) so it can be sized, or set num_gpus yourself",
        )
    return None


def resolve_num_gpus(
    spec: DeploymentSpec,
    model: CatalogModel | None,
    instance: InstanceFigures,
    weights_bytes: int | None,
    problems: Problems,
) -> int | None:
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
                "TGI cannot split this model's attention heads evenly over that many GPUs",
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
    chosen = default_num_gpus(weights_bytes, instance, attention)
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


def resolve_token_limits(
    spec: DeploymentSpec,
    context: int | None,
    capacity: int | None,
    num_gpus: int | None,
    instance: InstanceFigures | None,
    weights_bytes: int | None,
    problems: Problems,
) -> TokenLimits:
    tgi = spec.tgi
    defaults = default_token_limits(context, capacity)
    total = tgi.max_total_tokens
    if total is None:
        total = defaults.max_total_tokens
        if tgi.max_input_tokens is not None:
            total = max(total, tgi.max_input_tokens + DEFAULT_OUTPUT_TOKEN_BUDGET)
    max_input = tgi.max_input_tokens or total - min(DEFAULT_OUTPUT_TOKEN_BUDGET, total // 2)
    prefill = tgi.max_batch_prefill_tokens or max_input + PREFILL_TOKENS_OVER_INPUT
    if tgi.max_batch_prefill_tokens is None and tgi.max_batch_total_tokens is not None:
        prefill = min(prefill, tgi.max_batch_total_tokens)
    limits = TokenLimits(max_input_tokens=max_input, max_total_tokens=total, max_batch_prefill_tokens=prefill)
    if max_input >= total:
        problems.add(
            "tgi.max_input_tokens",
            max_input,
            f"TGI needs max_input_tokens below max_total_tokens ({total})",
            f"set tgi.max_input_tokens to at most {total - 1} or raise tgi.max_total_tokens",
        )
    beyond_context = context is not None and total > context
    if beyond_context:
        problems.add(
            "tgi.max_total_tokens",
            total,
            f"the model's context length is {context} tokens",
            f"set tgi.max_total_tokens to at most {context}",
        )
    batch_total = tgi.max_batch_total_tokens
    if batch_total is not None and total > batch_total:
        problems.add(
            "tgi.max_batch_total_tokens",
            batch_total,
            f"TGI needs it >= max_total_tokens ({total})",
            f"raise tgi.max_batch_total_tokens to at least {total} or leave it unset (TGI sizes it)",
        )
    if batch_total is not None and prefill > batch_total:
        problems.add(
            "tgi.max_batch_prefill_tokens",
            prefill,
            f"TGI needs it <= max_batch_total_tokens ({batch_total})",
            f"set tgi.max_batch_prefill_tokens to at most {batch_total}",
        )
    if capacity is not None and instance is not None and num_gpus is not None and weights_bytes is not None:
        checked_total = None if beyond_context else total  # one problem a field: the context one is enough
        for path, tokens in (("tgi.max_total_tokens", checked_total), ("tgi.max_batch_total_tokens", batch_total)):
            if tokens is not None and tokens > capacity:
                problems.add(
                    path,
                    tokens,
                    f"the KV cache left next to ~{weights_bytes / GB:.1f} GB of weights on {num_gpus} x "
                    f"{instance.gpu} holds about {capacity} tokens",
                    f"use at most {capacity}, set tgi.kv_cache_dtype to 'fp8_e4m3fn', or use a bigger instance type",
                )
    return limits


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
                problems.add(
                    f"scaling.{name}",
                    getattr(scaling, name),
                    f"only used with scaling.mode '{other_mode}' (it is '{mode}')",
                    f"remove it, or set scaling.mode to '{other_mode}'",
                )
    min_instances = scaling.min_instances
    if min_instances is None:
        min_instances = (
            defaults.MIN_INSTANCES_WITH_SCALE_TO_ZERO
            if mode == "scale_to_zero"
            else defaults.MIN_INSTANCES_WITH_INSTANCES
        )
    if mode == "instances" and min_instances < 1:
        problems.add(
            "scaling.min_instances",
            min_instances,
            "an instance-based variant keeps at least one instance",
            "set it to 1 or more, or use scaling.mode 'scale_to_zero' to reach zero",
        )
    if min_instances > scaling.max_instances:
        problems.add(
            "scaling.min_instances",
            min_instances,
            f"above scaling.max_instances ({scaling.max_instances})",
            "make min_instances <= max_instances",
        )
    if mode == "scale_to_zero":
        for name, value in (("min_copies", scaling.min_copies), ("min_instances", min_instances)):
            if value > 0:
                problems.add(
                    f"scaling.{name}",
                    value,
                    "with it above 0 the endpoint never scales to zero",
                    f"set scaling.{name} to 0, or use scaling.mode 'instances' for an always-on endpoint",
                )
    if instance is None or num_gpus is None:
        return None
    copies_that_fit = scaling.max_instances * (instance.gpu_count // num_gpus)
    max_copies = scaling.max_copies if scaling.max_copies is not None else copies_that_fit
    if max_copies > copies_that_fit:
        problems.add(
            "scaling.max_copies",
            max_copies,
            f"a copy takes {num_gpus} of the {instance.gpu_count} GPU(s) of {instance.name}: "
            f"{copies_that_fit} fit on max_instances ({scaling.max_instances})",
            f"set it to at most {copies_that_fit} or raise scaling.max_instances",
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


_S3_ONLY_WEIGHTS_FIELDS = (
    "hub_endpoint",
    "copy_max_concurrency",
    "part_size_mb",
    "max_in_flight",
    "copy_memory_mb",
    "bucket_versioned",
    "bucket_removal_policy",
    "delete_objects_on_delete",
    "allow_patterns",
    "ignore_patterns",
    "hf_token_kms_key_arn",
)


def check_weights(spec: DeploymentSpec, problems: Problems, *, production: bool = False) -> None:
    weights = spec.weights
    if weights.source == "hub" and production:
        problems.add(
            "weights.source",
            "hub",
            "environment.production is true: a production model runs with network isolation, which 'hub' "
            "weights cannot have (the container downloads them from the internet at every start)",
            "use weights.source 's3' (the default: copied once at deploy, served from the stack's bucket)",
        )
    if weights.hf_token_secret is not None and looks_like_credential(weights.hf_token_secret):
        problems.add(
            "weights.hf_token_secret",
            weights.hf_token_secret,  # shown as *** (ConfigProblem redacts it)
            "this is a token itself, not the name or ARN of a Secrets Manager secret holding one: it would be "
            "written into the template",
            "revoke it on the Hub (it has been in a file), store a new one with `aws secretsmanager create-secret "
            "--name hf/token --secret-string <token>` and set weights.hf_token_secret: hf/token",
        )
    elif weights.hf_token_secret is not None and weights.source == "hub":
        problems.add(
            "weights.hf_token_secret",
            weights.hf_token_secret,
            "with weights.source 'hub' CloudFormation would resolve the token into the SageMaker model's "
            "environment, where anyone allowed sagemaker:DescribeModel (and the console) can read it",
            "use weights.source 's3' (the default) for gated or private models: the copy reads the token at deploy "
            "time and the model never sees it",
        )
    if weights.hf_token_kms_key_arn is not None and weights.hf_token_secret is None:
        problems.add(
            "weights.hf_token_kms_key_arn",
            weights.hf_token_kms_key_arn,
            "it names the key of a token secret, and weights.hf_token_secret is not set",
            "set weights.hf_token_secret to the secret it encrypts, or remove it",
        )
    if weights.source == "hub":
        for name in _S3_ONLY_WEIGHTS_FIELDS:
            if name in weights.model_fields_set:
                problems.add(
                    f"weights.{name}",
                    getattr(weights, name),
                    "only used with weights.source 's3' (it is 'hub')",
                    "remove it, or set weights.source to 's3'",
                )
        return
    needed = copy_memory_needed_mb(weights.part_size_mb, weights.max_in_flight)
    if needed > weights.copy_memory_mb:
        problems.add(
            "weights.copy_memory_mb",
            weights.copy_memory_mb,
            f"part_size_mb {weights.part_size_mb} x max_in_flight {weights.max_in_flight} needs about {needed} MB",
            f"set it to at least {needed}, or lower weights.part_size_mb or weights.max_in_flight",
        )


def resolve_egress(spec: DeploymentSpec, problems: Problems) -> bool:
    """Internet egress of the container: needed by hub weights, useless (and billed) with s3 weights."""
    hub = spec.weights.source == "hub"
    egress = spec.network.egress if spec.network.egress is not None else hub
    prefix_list = spec.network.s3_prefix_list_id
    if prefix_list is not None and egress:
        problems.add(
            "network.s3_prefix_list_id",
            prefix_list,
            "limits the endpoint's egress to S3, but this deployment has internet egress (weights.source 'hub' or "
            "network.egress)",
            "remove network.s3_prefix_list_id, or use weights.source 's3' without network.egress",
        )
    elif prefix_list is not None and (spec.network.vpc == "none" or spec.network.security_group_ids):
        problems.add(
            "network.s3_prefix_list_id",
            prefix_list,
            "only used for the security group the stack creates (there is none with network.vpc 'none' or "
            "network.security_group_ids)",
            "remove network.s3_prefix_list_id, or let the stack create the security group",
        )
    if hub and not egress:
        problems.add(
            "network.egress",
            False,
            "with weights.source 'hub' the container downloads the model from the Hub",
            "set network.egress to true, or use weights.source 's3' to copy the weights once into S3",
        )
    if not hub and egress:
        problems.add(
            "network.egress",
            True,
            "with weights.source 's3' the model runs with network isolation and never uses internet egress",
            "remove network.egress (a NAT gateway would only add cost)",
        )
    return egress


def check_network(spec: DeploymentSpec, region: str | None, problems: Problems) -> None:
    network = spec.network
    if network.vpc == "existing":
        if not 1 <= len(network.subnet_ids) <= 16:
            problems.add(
                "network.subnet_ids",
                network.subnet_ids,
                "an existing VPC needs 1 to 16 subnets for the endpoint",
                "list private subnet ids of the VPC (in at least two AZs for resilience)",
            )
        if len(network.security_group_ids) > 5:
            problems.add(
                "network.security_group_ids",
                network.security_group_ids,
                "SageMaker takes at most 5",
                "list at most 5 security group ids",
            )
        if not network.security_group_ids and network.vpc_id is None:
            problems.add(
                "network.vpc_id",
                None,
                "needed to create the endpoint's security group",
                "set network.vpc_id, or list network.security_group_ids to use",
            )
    else:
        for name in ("vpc_id", "subnet_ids", "security_group_ids"):
            value = getattr(network, name)
            if value:
                problems.add(
                    f"network.{name}",
                    value,
                    f"only used with network.vpc 'existing' (it is '{network.vpc}')",
                    f"set network.vpc to 'existing' or remove network.{name}",
                )
    if network.vpc == "new" and region is None and network.availability_zones:
        problems.add(
            "network.availability_zones",
            network.availability_zones,
            "pinned zones need a region-specific environment (this one is region-agnostic)",
            "set environment.region (and account) to the zones' region, or drop network.availability_zones",
        )
    if network.vpc == "new" and region is not None:
        if not network.availability_zones:
            problems.add(
                "network.availability_zones",
                [],
                f"environment.region is '{region}': a new VPC would look up its AZs",
                f"pin them, e.g. ['{region}a', '{region}b']",
            )
        wrong = [az for az in network.availability_zones if not az.startswith(region)]
        if wrong:
            problems.add(
                "network.availability_zones",
                wrong,
                f"not zones of region '{region}'",
                f"use zones of {region}, e.g. '{region}a'",
            )


_TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")


def check_tags(tags: Mapping[str, str], problems: Problems) -> None:
    for key, value in tags.items():
        if key.lower().startswith("aws:") or not _TAG_KEY.match(key):
            problems.add(
                f"tags.{key}", key, "not a valid tag key (1-128 characters, no 'aws:' prefix)", "rename the tag"
            )
        elif looks_like_credential([key, value]):
            problems.add(
                f"tags.{key}",
                value,  # shown as *** (ConfigProblem redacts it)
                "looks like a credential: tags are written into the template and readable by anyone who lists tags",
                "remove it (and revoke it: it has been in a file)",
            )
        elif len(value) > 256:
            problems.add(f"tags.{key}", value[:40] + "...", "tag values are at most 256 characters", "shorten it")


def check_operations(spec: DeploymentSpec, problems: Problems) -> None:
    operations = spec.operations
    if operations.log_retention_days not in LOG_RETENTION_DAYS:
        problems.add(
            "operations.log_retention_days",
            operations.log_retention_days,
            "CloudWatch Logs keeps logs for set periods only",
            f"use one of {', '.join(map(str, LOG_RETENTION_DAYS))}",
        )
    if operations.alarm_emails and operations.alarm_topic_arn:
        problems.add(
            "operations.alarm_topic_arn",
            operations.alarm_topic_arn,
            "given together with alarm_emails",
            "keep one: alarm_emails creates a topic for them, or subscribe the addresses to your topic",
        )
    notifies = bool(operations.alarm_emails or operations.alarm_topic_arn)
    for setting, needs_alarms in (("alarm_emails", notifies), ("auto_rollback", operations.auto_rollback)):
        if needs_alarms and not operations.alarms:
            problems.add(
                f"operations.{setting}",
                getattr(operations, setting),
                "needs the alarms, which operations.alarms turns off",
                f"set operations.alarms: true, or drop operations.{setting}",
            )
    if operations.update_strategy == "blue_green" and spec.scaling.mode == "scale_to_zero":
        problems.add(
            "operations.update_strategy",
            "blue_green",
            "an inference component updates copy by copy; blue/green is for instance-based endpoints",
            "drop operations.update_strategy (rolling), or use scaling.mode: instances",
        )


def resolve_update_strategy(spec: DeploymentSpec) -> Literal["blue_green", "rolling"]:
    if spec.operations.update_strategy is not None:
        return spec.operations.update_strategy
    return "rolling" if spec.scaling.mode == "scale_to_zero" else "blue_green"
