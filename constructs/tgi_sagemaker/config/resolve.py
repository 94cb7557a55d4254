"""From a parsed spec to a resolved, checked deployment: every cross-field rule and every derived value.

``load_app(raw)`` is the one entry point apps use: it parses, checks and resolves, and raises one
``ConfigError`` listing every problem (field, value, fix) before any construct exists.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from tgi_sagemaker.catalog.instance_types import InstanceFigures
from tgi_sagemaker.catalog.models import CatalogModel, find_model
from tgi_sagemaker.catalog.sizing import (
    TokenLimits,
    kv_cache_token_capacity,
)
from tgi_sagemaker.config.errors import ConfigError, ConfigProblem, field_path, problems_from_validation_error
from tgi_sagemaker.config.rules.deployment import (
    Problems,
    ScalingPlan,
    check_network,
    check_operations,
    check_precision,
    check_tags,
    check_weights,
    resolve_egress,
    resolve_image,
    resolve_instance,
    resolve_num_gpus,
    resolve_scaling,
    resolve_token_limits,
    resolve_update_strategy,
    resolve_weights_bytes,
)
from tgi_sagemaker.config.rules.tgi import check_launcher_environment, check_startup
from tgi_sagemaker.config.spec import AppSpec, DeploymentSpec
from tgi_sagemaker.runtimes.tgi.environment import (
    check_environment_size,
    check_extra_environment,
    tgi_settings_environment,
)
from tgi_sagemaker.runtimes.tgi.image import TgiImage, supported_regions

COST_TAG_DEPLOYMENT = "tgi-sagemaker:deployment"
COST_TAG_MODEL = "tgi-sagemaker:model"


@dataclass(frozen=True)
class ResolvedDeployment:
    """A deployment with every value decided: what the stack builds from."""

    spec: DeploymentSpec
    stack_name: str
    catalog_model: CatalogModel | None
    instance: InstanceFigures
    num_gpus: int
    image: TgiImage
    token_limits: TokenLimits
    scaling: ScalingPlan
    network_egress: bool
    weights_bytes: int | None
    kv_cache_token_capacity: int | None
    tgi_environment: Mapping[str, str]
    tags: Mapping[str, str]
    update_strategy: Literal["blue_green", "rolling"]

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


def load_app(raw: Any, source: str = "config") -> ResolvedApp:
    """Parse, check and resolve a whole config; raise ``ConfigError`` with every problem found."""
    try:
        spec = AppSpec.model_validate(raw)
    except ValidationError as error:
        problems = problems_from_validation_error(error, raw, AppSpec)
        problems += _problems_of_app_tags(raw)
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
    problems += _problems_of_app_tags({"tags": spec.tags})
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


def _problems_of_app_tags(raw: Any) -> list[ConfigProblem]:
    """The app's tags checked once (they are not under any deployment), even when other keys failed to parse."""
    tags = raw.get("tags") if isinstance(raw, dict) else None
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        return []  # a shape error, already reported
    problems = Problems("")
    check_tags(tags, problems)
    return problems.items


def _problems_of_parseable_deployments(raw: Any) -> list[ConfigProblem]:
    """Cross-field problems of every deployment, so one run reports everything. A deployment with shape errors
    (already reported) is checked without its bad keys, and only problems of other fields are added."""
    deployments = raw.get("deployments") if isinstance(raw, dict) else None
    if not isinstance(deployments, list):
        return []
    problems: list[ConfigProblem] = []
    for index, item in enumerate(deployments):
        deployment, bad_fields = _parse_without_bad_keys(item)
        if deployment is None:
            continue
        base = field_path(("deployments", index), raw)
        result = resolve_deployment(deployment, app=None, base=base)
        if not isinstance(result, ResolvedDeployment):
            problems += [p for p in result if p.field.removeprefix(f"{base}.") not in bad_fields]
    return problems


def _parse_without_bad_keys(item: Any) -> tuple[DeploymentSpec | None, set[str]]:
    """The deployment parsed, after dropping the keys that failed (their defaults apply), and the dropped fields."""
    try:
        return DeploymentSpec.model_validate(item), set()
    except ValidationError as error:
        if not isinstance(item, dict):
            return None, set()
        repaired = copy.deepcopy(item)
        bad_fields = set()
        for detail in error.errors():
            loc = [key for key in detail["loc"] if isinstance(key, str)]
            bad_fields.add(".".join(loc))
            parent: Any = repaired
            for key in loc[:-1]:
                parent = parent.get(key) if isinstance(parent, dict) else None
            if isinstance(parent, dict) and loc:
                parent.pop(loc[-1], None)
        try:
            return DeploymentSpec.model_validate(repaired), bad_fields
        except ValidationError:  # a required field was bad: nothing sensible left to check
            return None, bad_fields


def resolve_deployment(
    spec: DeploymentSpec, *, app: AppSpec | None, base: str | None = None
) -> ResolvedDeployment | list[ConfigProblem]:
    """The deployment resolved, or the list of its problems."""
    problems = Problems(base or f"deployments[{spec.name}]")
    model = find_model(spec.model.id)
    instance = resolve_instance(spec, model, problems)
    image = resolve_image(spec, problems)
    check_precision(spec, problems)
    weights_bytes = resolve_weights_bytes(spec, model, problems)
    attention = model.attention if model else None
    num_gpus = resolve_num_gpus(spec, model, instance, weights_bytes, problems) if instance else None
    context = spec.model.context_length or (model.context_length if model else None)
    capacity = None
    if instance and num_gpus and weights_bytes is not None and attention is not None:
        capacity = kv_cache_token_capacity(weights_bytes, instance, num_gpus, attention, spec.tgi.kv_cache_dtype)
    limits = resolve_token_limits(spec, context, capacity, num_gpus, instance, weights_bytes, problems)
    check_startup(spec, model, limits, problems.add, image.version if image else None)
    check_launcher_environment(spec.tgi.extra_env, num_gpus, problems.add)
    scaling = resolve_scaling(spec, instance, num_gpus, problems)
    region = app.environment.region if app else None
    check_network(spec, region, problems)
    check_weights(spec, problems, production=app.environment.production if app else False)
    egress = resolve_egress(spec, problems)
    check_extra_environment(spec.tgi.extra_env, problems.add)
    # Cost allocation: every taggable resource carries the deployment and model (activate the keys in Billing).
    tags = {COST_TAG_DEPLOYMENT: spec.name, COST_TAG_MODEL: spec.model.id, **(app.tags if app else {}), **spec.tags}
    check_tags(spec.tags, problems)  # the app's own tags are checked once, by resolve_app
    check_operations(spec, problems)
    if problems.items or instance is None or image is None or num_gpus is None or scaling is None:
        return problems.items
    environment = tgi_settings_environment(spec, num_gpus=num_gpus, limits=limits, catalog_model=model)
    check_environment_size({"HF_MODEL_ID": spec.model.id, **environment}, problems.add)
    if problems.items:
        return problems.items
    prefix = app.stack_name_prefix if app else AppSpec.model_fields["stack_name_prefix"].default
    if app and app.environment.name:
        prefix = f"{prefix}-{app.environment.name}"
    return ResolvedDeployment(
        spec=spec,
        stack_name=f"{prefix}-{spec.name}",
        catalog_model=model,
        instance=instance,
        num_gpus=num_gpus,
        image=image,
        token_limits=limits,
        scaling=scaling,
        network_egress=egress,
        weights_bytes=weights_bytes,
        kv_cache_token_capacity=capacity,
        tgi_environment=environment,
        tags=tags,
        update_strategy=resolve_update_strategy(spec),
    )
