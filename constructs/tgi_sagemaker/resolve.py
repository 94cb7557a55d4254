"""From a parsed spec to a resolved, checked deployment: every cross-field rule and every derived value.

``load_app(raw)`` is the one entry point apps use: it parses, checks and resolves, and raises one
``ConfigError`` listing every problem (field, value, fix) before any construct exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from tgi_sagemaker.config_errors import ConfigError, ConfigProblem, field_path, problems_from_validation_error
from tgi_sagemaker.instance_types import InstanceType, find_instance_type, similar_instance_types
from tgi_sagemaker.model_catalog import CatalogModel, find_model
from tgi_sagemaker.sizing import (
    DEFAULT_OUTPUT_TOKEN_BUDGET,
    MAX_WEIGHTS_SHARE,
    PREFILL_TOKENS_OVER_INPUT,
    TokenLimits,
    default_num_gpus,
    default_token_limits,
    fitting_instance_types,
    gpu_counts,
    kv_cache_token_capacity,
    weights_bytes_from_parameters,
    weights_fit,
)
from tgi_sagemaker.spec import AppSpec, DeploymentSpec
from tgi_sagemaker.tgi_environment import check_environment_size, check_extra_environment, tgi_settings_environment
from tgi_sagemaker.tgi_image import TgiImage, UnknownTgiVersionError, supported_regions

GB = 1e9
GIB = 1024**3


@dataclass(frozen=True)
class ResolvedDeployment:
    """A deployment with every value decided: what the stack builds from."""

    spec: DeploymentSpec
    stack_name: str
    account: str | None
    region: str | None
    catalog_model: CatalogModel | None
    instance: InstanceType
    num_gpus: int
    image: TgiImage
    token_limits: TokenLimits
    weights_bytes: int | None
    kv_cache_token_capacity: int | None
    tgi_environment: Mapping[str, str]
    tags: Mapping[str, str]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def model_id(self) -> str:
        return self.spec.model.id


@dataclass(frozen=True)
class ResolvedApp:
    spec: AppSpec
    deployments: tuple[ResolvedDeployment, ...]


@dataclass
class _Problems:
    base: str
    items: list[ConfigProblem] = field(default_factory=list)

    def add(self, path: str, value: Any, problem: str, fix: str) -> None:
        self.items.append(ConfigProblem(f"{self.base}.{path}" if path else self.base, value, problem, fix))


def load_app(raw: Any, source: str = "config") -> ResolvedApp:
    """Parse, check and resolve a whole config; raise ``ConfigError`` with every problem found."""
    try:
        spec = AppSpec.model_validate(raw)
    except ValidationError as error:
        problems = problems_from_validation_error(error, raw, AppSpec)
        problems += _problems_of_parseable_deployments(raw)
        raise ConfigError(problems, source) from None
    return resolve_app(spec, raw, source)


def resolve_app(spec: AppSpec, raw: Any = None, source: str = "config") -> ResolvedApp:
    problems: list[ConfigProblem] = []
    region = spec.environment.region
    if region is not None and region not in supported_regions():
        problems.append(
            ConfigProblem(
                "environment.region",
                region,
                "SageMaker publishes no TGI image in this region",
                f"use one of {', '.join(supported_regions())}",
            )
        )
    seen: dict[str, int] = {}
    resolved = []
    for index, deployment in enumerate(spec.deployments):
        base = field_path(("deployments", index), raw) if raw is not None else f"deployments[{deployment.name}]"
        if deployment.name in seen:
            problems.append(
                ConfigProblem(
                    f"{base}.name",
                    deployment.name,
                    f"deployment #{seen[deployment.name]} has the same name",
                    "give every deployment its own name (it names the stack)",
                )
            )
        seen.setdefault(deployment.name, index)
        result = resolve_deployment(deployment, app=spec, base=base)
        if isinstance(result, ResolvedDeployment):
            resolved.append(result)
        else:
            problems += result
    if problems:
        raise ConfigError(problems, source)
    return ResolvedApp(spec, tuple(resolved))


def _problems_of_parseable_deployments(raw: Any) -> list[ConfigProblem]:
    """Cross-field problems of the deployments that did parse, so one run reports everything."""
    deployments = raw.get("deployments") if isinstance(raw, dict) else None
    if not isinstance(deployments, list):
        return []
    problems: list[ConfigProblem] = []
    for index, item in enumerate(deployments):
        try:
            deployment = DeploymentSpec.model_validate(item)
        except ValidationError:
            continue
        result = resolve_deployment(deployment, app=None, base=field_path(("deployments", index), raw))
        if not isinstance(result, ResolvedDeployment):
            problems += result
    return problems


def resolve_deployment(
    spec: DeploymentSpec, *, app: AppSpec | None, base: str | None = None
) -> ResolvedDeployment | list[ConfigProblem]:
    """The deployment resolved, or the list of its problems."""
    problems = _Problems(base or f"deployments[{spec.name}]")
    model = find_model(spec.model.id)
    instance = _instance(spec, model, problems)
    image = _image(spec, problems)
    _check_precision(spec, problems)
    weights_bytes = _weights_bytes(spec, model, problems)
    attention = model.attention if model else None
    num_gpus = _num_gpus(spec, model, instance, weights_bytes, problems) if instance else None
    context = spec.model.context_length or (model.context_length if model else None)
    capacity = None
    if instance and num_gpus and weights_bytes is not None and attention is not None:
        capacity = kv_cache_token_capacity(weights_bytes, instance, num_gpus, attention, spec.tgi.kv_cache_dtype)
    limits = _token_limits(spec, context, capacity, num_gpus, instance, weights_bytes, problems)
    _check_scaling(spec, problems)
    region = app.environment.region if app else None
    _check_network(spec, region, problems)
    check_extra_environment(spec.tgi.extra_env, problems.add)
    tags = {**(app.tags if app else {}), **spec.tags}
    _check_tags(tags, problems)
    if problems.items or instance is None or image is None or num_gpus is None:
        return problems.items
    environment = tgi_settings_environment(spec, num_gpus=num_gpus, limits=limits, catalog_model=model)
    check_environment_size({"HF_MODEL_ID": spec.model.id, **environment}, problems.add)
    if problems.items:
        return problems.items
    prefix = app.stack_name_prefix if app else "TgiSageMaker"
    return ResolvedDeployment(
        spec=spec,
        stack_name=f"{prefix}-{spec.name}",
        account=app.environment.account if app else None,
        region=region,
        catalog_model=model,
        instance=instance,
        num_gpus=num_gpus,
        image=image,
        token_limits=limits,
        weights_bytes=weights_bytes,
        kv_cache_token_capacity=capacity,
        tgi_environment=environment,
        tags=tags,
    )


def _instance(spec: DeploymentSpec, model: CatalogModel | None, problems: _Problems) -> InstanceType | None:
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


def _image(spec: DeploymentSpec, problems: _Problems) -> TgiImage | None:
    try:
        return TgiImage.of(spec.tgi.version)
    except UnknownTgiVersionError as error:
        problems.add(
            "tgi.version", spec.tgi.version, "no SageMaker TGI image has this version", str(error).split("; ")[1]
        )
        return None


def _check_precision(spec: DeploymentSpec, problems: _Problems) -> None:
    tgi = spec.tgi
    if tgi.dtype is not None and tgi.quantize is not None:
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


def _weights_bytes(spec: DeploymentSpec, model: CatalogModel | None, problems: _Problems) -> int | None:
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


def _num_gpus(
    spec: DeploymentSpec,
    model: CatalogModel | None,
    instance: InstanceType,
    weights_bytes: int | None,
    problems: _Problems,
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
    chosen = default_num_gpus(weights_bytes, instance, attention)
    if chosen is None and weights_bytes is not None:
        _add_does_not_fit(spec, model, instance, shardable[-1] if shardable else 1, weights_bytes, problems)
    return chosen


def _add_does_not_fit(
    spec: DeploymentSpec,
    model: CatalogModel | None,
    instance: InstanceType,
    num_gpus: int,
    weights_bytes: int,
    problems: _Problems,
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


def _token_limits(
    spec: DeploymentSpec,
    context: int | None,
    capacity: int | None,
    num_gpus: int | None,
    instance: InstanceType | None,
    weights_bytes: int | None,
    problems: _Problems,
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


def _check_scaling(spec: DeploymentSpec, problems: _Problems) -> None:
    scaling = spec.scaling
    if scaling.min_instances > scaling.max_instances:
        problems.add(
            "scaling.min_instances",
            scaling.min_instances,
            f"above scaling.max_instances ({scaling.max_instances})",
            "make min_instances <= max_instances",
        )


def _check_network(spec: DeploymentSpec, region: str | None, problems: _Problems) -> None:
    network = spec.network
    if spec.weights.source == "hub" and not network.egress:
        problems.add(
            "network.egress",
            False,
            "with weights.source 'hub' the container downloads the model from the Hub",
            "set network.egress to true",
        )
    if network.vpc == "none" and not network.egress:
        problems.add(
            "network.egress",
            False,
            "without a VPC SageMaker gives the container internet access anyway",
            "use network.vpc 'new' or 'existing' to keep the endpoint off the internet",
        )
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


def _check_tags(tags: Mapping[str, str], problems: _Problems) -> None:
    for key, value in tags.items():
        if key.lower().startswith("aws:") or not _TAG_KEY.match(key):
            problems.add(
                f"tags.{key}", key, "not a valid tag key (1-128 characters, no 'aws:' prefix)", "rename the tag"
            )
        elif len(value) > 256:
            problems.add(f"tags.{key}", value[:40] + "...", "tag values are at most 256 characters", "shorten it")
