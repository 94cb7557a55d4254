"""From a parsed spec to a resolved, checked deployment: the rules of every spec section run in turn.

``load_app(raw)`` is the one entry point apps use: it parses, checks and resolves, and raises one
``ConfigError`` listing every problem (field, value, fix) before any construct exists. A deployment is resolved
or its problems are raised: none is ever left out without a word.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from tgi_sagemaker.catalog.instance_types import InstanceFigures
from tgi_sagemaker.catalog.models import CatalogModel, find_model
from tgi_sagemaker.catalog.sizing import TokenLimits
from tgi_sagemaker.config.errors import (
    ConfigError,
    ConfigProblem,
    Problems,
    field_path,
    problems_from_validation_error,
)
from tgi_sagemaker.config.partial import Unparsed, judged_with, parse_valid_parts, under_any
from tgi_sagemaker.config.rules.environment import check_region, named_stack, stack_name
from tgi_sagemaker.config.rules.instance import resolve_instance, resolve_num_gpus
from tgi_sagemaker.config.rules.model import resolve_context_length, resolve_weights_bytes
from tgi_sagemaker.config.rules.network import check_network, resolve_egress
from tgi_sagemaker.config.rules.operations import check_operations, resolve_update_strategy
from tgi_sagemaker.config.rules.packing import ComponentDemand
from tgi_sagemaker.config.rules.runtime import check_runtime_sections, resolve_runtime, resolve_server_token_limits
from tgi_sagemaker.config.rules.scaling import ScalingPlan, resolve_scaling
from tgi_sagemaker.config.rules.sglang import check_sglang
from tgi_sagemaker.config.rules.shared_endpoint import (
    check_deployment_fields,
    check_endpoint_operations,
    check_endpoint_wide_settings,
    check_packing,
    deployment_on,
    endpoint_path_of,
)
from tgi_sagemaker.config.rules.tags import COST_TAG_DEPLOYMENT, check_tags, deployment_tags
from tgi_sagemaker.config.rules.tgi import check_launcher_environment, check_precision, check_startup
from tgi_sagemaker.config.rules.token_limits import resolve_kv_cache_capacity, resolve_token_limits
from tgi_sagemaker.config.rules.vllm import check_vllm
from tgi_sagemaker.config.rules.weights import check_weights
from tgi_sagemaker.config.source import parser_problems
from tgi_sagemaker.config.spec import AppSpec, DeploymentSpec, SharedEndpointSpec
from tgi_sagemaker.runtimes.container_image import ContainerImage
from tgi_sagemaker.runtimes.runtime import HubModel, ModelDirectory, ModelLocation, ServingRuntime
from tgi_sagemaker.runtimes.tgi.environment import check_environment_size, check_extra_environment


@dataclass(frozen=True)
class ResolvedDeployment:
    """A deployment with every value decided: what the stack builds from."""

    spec: DeploymentSpec
    stack_name: str
    catalog_model: CatalogModel | None
    instance: InstanceFigures
    num_gpus: int
    runtime: ServingRuntime
    token_limits: TokenLimits
    scaling: ScalingPlan
    network_egress: bool
    weights_bytes: int | None
    kv_cache_token_capacity: int | None
    settings_environment: Mapping[str, str]
    """The container environment the deployment's settings become (``runtime.settings_environment``, for any
    runtime); the variables that locate the model come from the weights (``runtime.model_environment``)."""
    tags: Mapping[str, str]
    update_strategy: Literal["blue_green", "rolling"]
    endpoint: str | None = None
    """The shared endpoint it runs on (its ``spec`` then holds the endpoint's instance type and network); None: its
    own endpoint and stack."""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def demand(self) -> ComponentDemand:
        """What its copies ask of a shared endpoint's instances."""
        plan = self.scaling
        return ComponentDemand(self.name, self.num_gpus, plan.min_memory_mb, plan.min_copies, plan.max_copies)

    @property
    def model_id(self) -> str:
        return self.spec.model.id

    @property
    def image(self) -> ContainerImage:
        return self.runtime.image

    @property
    def model_location(self) -> ModelLocation:
        return _model_location(self.spec)


def _model_location(spec: DeploymentSpec) -> ModelLocation:
    """Where the container finds the model: S3 weights in the directory SageMaker fills, Hub weights by repo id
    (the config refuses a Hub token with Hub weights, so no token is part of it)."""
    if spec.weights.source == "s3":
        return ModelDirectory()
    return HubModel(spec.model.id, spec.model.revision)


@dataclass(frozen=True)
class ResolvedSharedEndpoint:
    """A shared endpoint with the deployments on it, checked together: what its stack builds from."""

    spec: SharedEndpointSpec
    stack_name: str
    instance: InstanceFigures
    deployments: tuple[ResolvedDeployment, ...]
    network_egress: bool
    inference_ami_version: str | None
    tags: Mapping[str, str]

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class ResolvedApp:
    spec: AppSpec
    deployments: tuple[ResolvedDeployment, ...]
    """Every deployment, those on shared endpoints included (their ``endpoint`` names it)."""
    endpoints: tuple[ResolvedSharedEndpoint, ...] = ()

    @property
    def own_endpoint_deployments(self) -> tuple[ResolvedDeployment, ...]:
        """The deployments with a stack of their own."""
        return tuple(d for d in self.deployments if d.endpoint is None)


def load_app(raw: Any, source: str = "config") -> ResolvedApp:
    """Parse, check and resolve a whole config; raise ``ConfigError`` with every problem found: the parser's (keys
    given twice), the schema's, and the rules' of every section that validates (``partial.py``)."""
    problems = parser_problems(raw)
    try:
        spec = AppSpec.model_validate(raw)
    except ValidationError as error:
        problems += problems_from_validation_error(error, raw, AppSpec)
        problems += _rule_problems_of_valid_parts(raw, refused={p.field for p in problems})
        raise ConfigError(_once(problems), source) from None
    try:
        app = resolve_app(spec, raw, source)
    except ConfigError as error:
        raise ConfigError(problems + error.problems, source) from None
    if problems:
        raise ConfigError(problems, source)
    return app


def _rule_problems_of_valid_parts(raw: Any, refused: set[str]) -> list[ConfigProblem]:
    """The rules' problems with the parts of a config that validate, less those with a field already refused; a
    problem that may rest on a refused field's default says so (``judged_with``)."""
    partial = parse_valid_parts(raw)
    if partial is None:
        return []
    try:
        resolve_app(partial.spec, unparsed=partial.unparsed)
    except ConfigError as error:
        return [judged_with(p, refused) for p in error.problems if not under_any(p.field, refused)]
    return []


def resolve_app(
    spec: AppSpec, raw: Any = None, source: str = "config", *, unparsed: Unparsed | None = None
) -> ResolvedApp:
    """``spec`` checked and resolved (``raw``: the config it was parsed from, to name list items as written);
    ``unparsed``: what of the config did not parse, that the rules must wait for (``partial.py``)."""
    unparsed = unparsed or Unparsed()
    app_problems = Problems("")
    check_region(spec, app_problems)
    check_tags(spec.tags, app_problems)  # the app's tags, once (not under any deployment)
    problems = app_problems.items
    seen: dict[str, int] = {}
    resolved = []
    for index, deployment in enumerate(spec.deployments):
        base = field_path(("deployments", index), raw) if raw is not None else f"deployments[{deployment.name}]"
        position = unparsed.positions[index] if unparsed.positions is not None else index
        if deployment.name in seen:
            problems.append(
                ConfigProblem(
                    f"{base}.name",
                    deployment.name,
                    f"deployment #{seen[deployment.name]} has the same name",
                    "give every deployment its own name (it names the stack)",
                )
            )
        seen.setdefault(deployment.name, position)
        if deployment.endpoint in unparsed.endpoints:
            # Its model's rules need the endpoint's instance type: they wait; what it may not set is known now.
            waiting = Problems(base)
            check_deployment_fields(deployment, f"endpoints[{deployment.endpoint}]", waiting)
            problems += waiting.items
            continue
        try:
            if deployment.endpoint is None:
                resolved.append(resolve_deployment(deployment, app=spec, base=base))
            else:
                resolved.append(_resolve_on_shared_endpoint(deployment, spec, base, raw))
        except ConfigError as error:
            problems += error.problems
    endpoints = _resolve_shared_endpoints(spec, tuple(resolved), raw, problems, unparsed)
    if problems:
        raise ConfigError(_once(problems), source)
    return ResolvedApp(spec, tuple(resolved), endpoints)


def _once(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    """Each problem once: an endpoint's field found wrong while resolving each model on it is reported once."""
    seen: set[str] = set()
    unique = []
    for problem in problems:
        if str(problem) not in seen:
            seen.add(str(problem))
            unique.append(problem)
    return unique


def _endpoint_path(spec: AppSpec, name: str, raw: Any) -> str | None:
    index = next((i for i, e in enumerate(spec.endpoints) if e.name == name), None)
    if index is None:
        return None
    return field_path(("endpoints", index), raw) if raw is not None else f"endpoints[{name}]"


def _resolve_on_shared_endpoint(spec: DeploymentSpec, app: AppSpec, base: str, raw: Any) -> ResolvedDeployment:
    """A deployment resolved with its shared endpoint's instance type, network and instance bounds; problems of
    those fields are reported as the endpoint's."""
    assert spec.endpoint is not None
    problems = Problems(base)
    endpoint_path = _endpoint_path(app, spec.endpoint, raw)
    if endpoint_path is None:
        names = [e.name for e in app.endpoints]
        problems.add(
            "endpoint",
            spec.endpoint,
            "no shared endpoint has this name",
            f"use one of {names}" if names else "add it under endpoints: (name, instance_type, ...), or remove it",
        )
        check_deployment_fields(spec, f"endpoints[{spec.endpoint}]", problems)  # known without the endpoint
        raise ConfigError(problems.items)
    check_deployment_fields(spec, endpoint_path, problems)
    endpoint = next(e for e in app.endpoints if e.name == spec.endpoint)
    try:
        resolved = resolve_deployment(deployment_on(spec, endpoint), app=app, base=base)
    except ConfigError as error:
        for problem in error.problems:
            moved = endpoint_path_of(problem.field, base, endpoint_path)
            problems.items.append(dataclasses.replace(problem, field=moved) if moved else problem)
    if problems.items:
        raise ConfigError(problems.items)
    return dataclasses.replace(resolved, stack_name=_endpoint_stack_name(endpoint, app), endpoint=endpoint.name)


def _endpoint_stack_name(endpoint: SharedEndpointSpec, app: AppSpec) -> str:
    """``<stack_name_prefix>[-<environment.name>]-<endpoint>``, as a deployment's (``stack_name``)."""
    return named_stack(endpoint.name, app)


def _resolve_shared_endpoints(
    app: AppSpec,
    deployments: tuple[ResolvedDeployment, ...],
    raw: Any,
    problems: list[ConfigProblem],
    unparsed: Unparsed,
) -> tuple[ResolvedSharedEndpoint, ...]:
    """Each shared endpoint checked as a whole with the models on it that resolved (a model that did not has its
    problems reported already: the packing of the others is checked, and names the least instances they need)."""
    resolved = []
    own_stacks = {d.stack_name: d.name for d in deployments if d.endpoint is None}
    seen: set[str] = set()
    for endpoint in app.endpoints:
        endpoint_problems = Problems(_endpoint_path(app, endpoint.name, raw) or f"endpoints[{endpoint.name}]")
        name = _endpoint_stack_name(endpoint, app)
        if endpoint.name in seen or name in own_stacks:
            endpoint_problems.add(
                "name",
                endpoint.name,
                "another shared endpoint or a deployment with its own endpoint has this name (it names the stack)",
                "give every shared endpoint a name no deployment or other endpoint has",
            )
        seen.add(endpoint.name)
        check_endpoint_operations(endpoint, endpoint_problems)
        check_tags(endpoint.tags, endpoint_problems)
        named = [d for d in app.deployments if d.endpoint == endpoint.name]
        on_it = [d for d in deployments if d.endpoint == endpoint.name]
        every_model = len(on_it) == len(named) and endpoint.name not in unparsed.endpoints_with_unparsed_models
        if not named and endpoint.name not in unparsed.endpoints_with_unparsed_models:
            endpoint_problems.add(
                "",
                endpoint.name,
                "no deployment runs on this shared endpoint",
                "name it in a deployment's endpoint, or remove it",
            )
        elif on_it:
            names = [d.name for d in on_it]
            app_level = Problems("")
            ami = check_endpoint_wide_settings(
                names,
                [d.spec.weights.source for d in on_it],
                [d.runtime.inference_ami_version for d in on_it],
                app_level,
            )
            check_packing(
                endpoint, on_it[0].instance, [d.demand for d in on_it], endpoint_problems, every_model=every_model
            )
            problems += app_level.items
            if every_model and not endpoint_problems.items and not app_level.items:
                resolved.append(
                    ResolvedSharedEndpoint(
                        spec=endpoint,
                        stack_name=name,
                        instance=on_it[0].instance,
                        deployments=tuple(on_it),
                        network_egress=on_it[0].network_egress,
                        inference_ami_version=ami,
                        tags={COST_TAG_DEPLOYMENT: endpoint.name, **app.tags, **endpoint.tags},
                    )
                )
        problems += endpoint_problems.items
    return tuple(resolved)


def resolve_deployment(spec: DeploymentSpec, *, app: AppSpec | None, base: str | None = None) -> ResolvedDeployment:
    """The deployment with every value decided; else ``ConfigError`` with every problem found, under ``base``
    (its field path; default ``deployments[<name>]``). ``app``: the app it belongs to (None: checked alone)."""
    problems = Problems(base or f"deployments[{spec.name}]")
    model = find_model(spec.model.id)
    instance = resolve_instance(spec, model, problems)
    runtime = resolve_runtime(spec, problems.add)
    check_runtime_sections(spec, problems.add)
    if spec.runtime == "tgi":
        check_precision(spec, problems.add)
    weights_bytes = resolve_weights_bytes(spec, model, problems)
    num_gpus = resolve_num_gpus(spec, model, instance, weights_bytes, problems) if instance else None
    context = resolve_context_length(spec, model)
    capacity = resolve_kv_cache_capacity(spec, model, instance, num_gpus, weights_bytes)
    if spec.runtime == "tgi":
        limits = resolve_token_limits(spec, context, capacity, num_gpus, instance, weights_bytes, problems)
        check_startup(spec, model, limits, problems.add, runtime.image.version if runtime else None)
        check_launcher_environment(spec.tgi.extra_env, num_gpus, problems.add)
        check_extra_environment(spec.tgi.extra_env, problems.add)
    else:
        limits = resolve_server_token_limits(spec, context, capacity, instance, num_gpus, weights_bytes, problems)
        (check_vllm if spec.runtime == "vllm" else check_sglang)(spec, runtime, problems.add)
    scaling = resolve_scaling(spec, instance, num_gpus, problems)
    check_network(spec, app.environment.region if app else None, problems)
    check_weights(spec, problems, production=app.environment.production if app else False)
    egress = resolve_egress(spec, problems)
    check_tags(spec.tags, problems)  # the app's own tags are checked once, by resolve_app
    check_operations(spec, problems)
    decided = {"instance_type": instance, f"{spec.runtime}.version": runtime, "num_gpus": num_gpus, "scaling": scaling}
    undecided = [path for path, value in decided.items() if value is None]
    if undecided and not problems.items:
        # Each rule that leaves a value undecided adds a problem saying why; should one not, still never return
        # without the deployment.
        problems.add(
            undecided[0],
            None,
            "left undecided by the rules, which gave no reason",
            "report it as a bug of this library",
        )
    if problems.items or instance is None or runtime is None or num_gpus is None or scaling is None:
        raise ConfigError(problems.items)
    environment = runtime.settings_environment(spec, num_gpus=num_gpus, limits=limits, catalog_model=model)
    check_environment_size({**runtime.model_environment(_model_location(spec)), **environment}, problems.add)
    if problems.items:
        raise ConfigError(problems.items)
    return ResolvedDeployment(
        spec=spec,
        stack_name=stack_name(spec, app),
        catalog_model=model,
        instance=instance,
        num_gpus=num_gpus,
        runtime=runtime,
        token_limits=limits,
        scaling=scaling,
        network_egress=egress,
        weights_bytes=weights_bytes,
        kv_cache_token_capacity=capacity,
        settings_environment=environment,
        tags=deployment_tags(spec, app),
        update_strategy=resolve_update_strategy(spec),
    )
