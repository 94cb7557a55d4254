"""The parts of a config that validate when the whole does not, so that the rules check them in the same report.

Pydantic reports every shape, type and range problem at once, but the rules (``rules/``) need a parsed spec. So
when the schema refuses some fields, each section is parsed on its own (the environment, each shared endpoint,
each deployment, the app's own fields), a refused field is dropped so that its default applies, and the rules run
on what parsed. A rule that needs a refused value waits for it: a deployment whose ``model`` (or the type of its
``endpoint``) is refused, and the models on a shared endpoint whose ``instance_type`` is refused, are left to the
next run (but for the fields a model on a shared endpoint may not set); a rule's problem with a refused field is
left out, as the schema's problem says it already. Names of deployments and shared endpoints are only labels to
the rules: a name the schema refuses is kept as written, so that every problem is reported under it.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tgi_sagemaker.config.errors import ConfigProblem
from tgi_sagemaker.config.spec import (
    DEPLOYMENT_NAME_PATTERN,
    AppSpec,
    DeploymentSpec,
    EnvironmentSpec,
    ModelSpec,
    SharedEndpointSpec,
)

# Each round drops the fields the schema refused; a field is refused in one round or parses (deeper sections are
# dropped whole), so a few rounds always settle.
_MOST_ROUNDS = 8
# Stand-ins for refused names while a section is parsed (each is given its written name back after).
_STAND_IN_NAME = "name-refused"
_STAND_IN_ENDPOINT = "endpoint-refused"
ModelT = TypeVar("ModelT", bound=BaseModel)
_STAND_IN_DEPLOYMENT = DeploymentSpec(name="stand-in", model=ModelSpec(id="stand/in"))


@dataclass(frozen=True)
class Unparsed:
    """What the rules must know of the parts that did not parse (all empty for a config that parsed whole)."""

    endpoints: frozenset[str] = frozenset()
    """Shared endpoints (by name as written) that did not parse: the models on them wait for their instance type."""
    endpoints_with_unparsed_models: frozenset[str] = frozenset()
    """Shared endpoints that a model which did not parse runs on: their packing is checked without it."""
    positions: tuple[int, ...] | None = None
    """Each parsed deployment's position in the config's list (None: every deployment parsed)."""


@dataclass(frozen=True)
class PartialApp:
    spec: AppSpec
    unparsed: Unparsed = field(default_factory=Unparsed)


def parse_valid_parts(raw: Any) -> PartialApp | None:
    """The config with every refused field dropped (its default applies) and every section that cannot parse
    without a refused field left out; None when the config is not a mapping."""
    if not isinstance(raw, dict):
        return None
    endpoint_items = raw.get("endpoints", [])
    endpoint_items = endpoint_items if isinstance(endpoint_items, list) else []
    endpoints, unparsed_endpoints = [], set()
    for index, item in enumerate(endpoint_items):
        endpoint = _parse_endpoint(item, _label(item, index))
        if endpoint is None:
            unparsed_endpoints.add(_label(item, index))
        else:
            endpoints.append(endpoint)
    deployment_items = raw.get("deployments")
    deployment_items = deployment_items if isinstance(deployment_items, list) else []
    deployments, positions, with_unparsed_models = [], [], set()
    for index, item in enumerate(deployment_items):
        deployment = _parse_deployment(item, _label(item, index))
        if deployment is not None:
            deployments.append(deployment)
            positions.append(index)
        elif isinstance(item, dict) and isinstance(item.get("endpoint"), str):
            with_unparsed_models.add(item["endpoint"])
    if not isinstance(raw.get("endpoints", []), list):  # the endpoints are unknown: their models wait
        unparsed_endpoints |= {d.endpoint for d in deployments if d.endpoint is not None}
    if not isinstance(raw.get("deployments"), list):  # the models are unknown: packing waits
        with_unparsed_models |= {e.name for e in endpoints}
    environment = _parse_dropping_refused(EnvironmentSpec, raw.get("environment", {})) or EnvironmentSpec()
    own_fields = {key: value for key, value in raw.items() if key not in ("deployments", "endpoints", "environment")}
    app = _parse_dropping_refused(
        AppSpec,
        {**own_fields, "deployments": [_STAND_IN_DEPLOYMENT], "endpoints": endpoints, "environment": environment},
    )
    if app is None:
        return None
    spec = app.model_copy(update={"deployments": deployments})  # may be none: each rule of the app still runs
    return PartialApp(spec, Unparsed(frozenset(unparsed_endpoints), frozenset(with_unparsed_models), tuple(positions)))


def _label(item: Any, index: int) -> str:
    """A list item's label in field paths (``errors.field_path``): its name, else its position."""
    name = item.get("name") if isinstance(item, dict) else None
    return name if isinstance(name, str) and name else str(index)


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and re.match(DEPLOYMENT_NAME_PATTERN, value) is not None


def _parse_deployment(item: Any, label: str) -> DeploymentSpec | None:
    if not isinstance(item, dict):
        return None
    work = {**item, "name": item.get("name") if _is_name(item.get("name")) else _STAND_IN_NAME}
    endpoint = item.get("endpoint")
    if endpoint is not None and not _is_name(endpoint):
        if not isinstance(endpoint, str) or not endpoint:
            return None  # which endpoint it runs on is unknown: its rules wait
        work["endpoint"] = _STAND_IN_ENDPOINT
    deployment = _parse_dropping_refused(DeploymentSpec, work)
    if deployment is None:
        return None
    return deployment.model_copy(update={"name": label, "endpoint": endpoint})


def _parse_endpoint(item: Any, label: str) -> SharedEndpointSpec | None:
    if not isinstance(item, dict):
        return None
    work = {**item, "name": item.get("name") if _is_name(item.get("name")) else _STAND_IN_NAME}
    endpoint = _parse_dropping_refused(SharedEndpointSpec, work)
    return endpoint.model_copy(update={"name": label}) if endpoint is not None else None


def _parse_dropping_refused(model: type[ModelT], value: Any) -> ModelT | None:
    """``value`` parsed as ``model`` after dropping each key the schema refuses (its default applies); None when a
    required key is refused or the value is no mapping."""
    if not isinstance(value, dict):
        return None
    work = copy.deepcopy(value)
    for _ in range(_MOST_ROUNDS):
        try:
            return model.model_validate(work)
        except ValidationError as error:
            dropped = False
            for detail in error.errors():
                keys = _up_to_last_key(tuple(detail["loc"]))
                if detail["type"] == "missing" or not keys:
                    return None  # a required field is refused: what needs it waits
                dropped = _drop(work, keys) or dropped
            if not dropped:
                return None
    return None


def _up_to_last_key(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The location of the field that holds a refused value: a bad item of a list drops the whole list."""
    last_key = max((i for i, key in enumerate(loc) if isinstance(key, str)), default=-1)
    return loc[: last_key + 1]


def _drop(work: dict[str, Any], keys: tuple[Any, ...]) -> bool:
    parent: Any = work
    for key in keys[:-1]:
        try:
            parent = parent[key]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(parent, dict) and keys[-1] in parent:
        del parent[keys[-1]]
        return True
    return False


# A refused field of a deployment or shared endpoint leaves its default in place, and the rules of these sections
# of the same deployment judge that default, not what the user meant: their problems say so (``judged_with``). A
# section not listed (model, instance type, GPUs, runtime and its settings, weights, the endpoint) feeds nearly
# every rule, so a refused field there marks all of its deployment's rule problems. A name is only a label.
_SECTIONS_A_REFUSED_FIELD_FEEDS: dict[str, tuple[str, ...] | None] = {
    "name": (),
    "tags": ("tags",),
    "operations": ("operations",),
    "network": ("network", "weights"),  # a VPC without egress decides whether Hub weights can load
    "scaling": ("scaling", "operations", "num_gpus", "instance_type"),  # the mode decides components or instances
}
_OWNER = re.compile(r"^((?:deployments|endpoints)\[[^\]]*\])(?:\.([a-z_]+))?")


def judged_with(problem: ConfigProblem, refused: set[str]) -> ConfigProblem:
    """A rule's problem, saying which refused fields (schema problems) it was judged with the defaults of."""
    defaults_of = []
    for path in sorted(refused):
        match = _OWNER.match(path)
        if match is None:
            continue  # the environment's and the app's own fields: judged on their own
        owner, section = match.group(1), match.group(2)
        fed = _SECTIONS_A_REFUSED_FIELD_FEEDS.get(section or "")
        places = [owner] if fed is None else [f"{owner}.{name}" for name in fed]
        if under_any(problem.field, places):
            defaults_of.append(path.split("].", 1)[-1])
    if not defaults_of:
        return problem
    note = f" (judged with the default of {', '.join(defaults_of)}, whose value the config refused: fix that first)"
    return dataclasses.replace(problem, problem=problem.problem + note)


def under_any(field: str, paths: Iterable[str]) -> bool:
    """Whether ``field`` is one of ``paths`` or lies under one (``a.b`` and ``a[0]`` lie under ``a``)."""
    return any(field == path or field.startswith((f"{path}.", f"{path}[")) for path in paths)
