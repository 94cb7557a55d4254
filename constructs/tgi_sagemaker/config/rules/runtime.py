"""``runtime``: the serving container a deployment runs, its image, the settings section that goes with it, and
what its memory setting leaves for the KV cache.

Only the section of the chosen runtime may be given: a TGI setting in a vLLM deployment would be silently unused.
The vLLM and SGLang sections share their shape (a memory fraction, a context window, server flags); what differs
is in ``vllm.py`` and ``sglang.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tgi_sagemaker.catalog.instance_types import InstanceFigures
from tgi_sagemaker.catalog.models import GB
from tgi_sagemaker.catalog.sizing import (
    DEFAULT_OUTPUT_TOKEN_BUDGET,
    PREFILL_TOKENS_OVER_INPUT,
    USABLE_MEMORY_SHARE,
    TokenLimits,
    default_token_limits,
)
from tgi_sagemaker.config.credentials import looks_like_credential
from tgi_sagemaker.config.errors import Problems
from tgi_sagemaker.config.rules.tgi import resolve_image
from tgi_sagemaker.config.spec import RUNTIMES, DeploymentSpec
from tgi_sagemaker.runtimes.container_image import UnknownImageVersionError
from tgi_sagemaker.runtimes.runtime import ServingRuntime
from tgi_sagemaker.runtimes.server_flags import NEGATIVE, FlagList, unknown_flags
from tgi_sagemaker.runtimes.sglang.runtime import Sglang
from tgi_sagemaker.runtimes.tgi.runtime import Tgi
from tgi_sagemaker.runtimes.vllm.runtime import Vllm

AddProblem = Callable[[str, Any, str, str], None]

CONTAINER_NAMES = {"tgi": "TGI", "vllm": "vLLM", "sglang": "SGLang"}
# The field of each server section that holds the context window (prompt plus answer).
CONTEXT_FIELDS = {"vllm": "max_model_len", "sglang": "context_length"}
MEMORY_FIELDS = {"vllm": "gpu_memory_utilization", "sglang": "mem_fraction_static"}
_SECRET_FLAG_WORDS = ("key", "token", "secret", "password")


def check_runtime_sections(spec: DeploymentSpec, add: AddProblem) -> None:
    """Every setting given in the section of a runtime this deployment does not run."""
    for name in RUNTIMES:
        if name == spec.runtime or name not in spec.model_fields_set:
            continue
        section = getattr(spec, name)
        for field in sorted(section.model_fields_set):
            add(
                f"{name}.{field}",
                getattr(section, field),
                f"a {CONTAINER_NAMES[name]} setting, and this deployment runs {CONTAINER_NAMES[spec.runtime]} "
                f"(runtime: {spec.runtime}): it would be ignored",
                f"remove it, or set runtime: {name}",
            )


def resolve_runtime(spec: DeploymentSpec, add: AddProblem) -> ServingRuntime | None:
    """The runtime at the version its section names; None only with a problem added."""
    if spec.runtime == "tgi":
        image = resolve_image(spec, add)
        return Tgi(image=image) if image is not None else None
    runtime_class = Vllm if spec.runtime == "vllm" else Sglang
    version = getattr(spec, spec.runtime).version
    try:
        return runtime_class.of(version)
    except UnknownImageVersionError as error:
        name = CONTAINER_NAMES[spec.runtime]
        add(
            f"{spec.runtime}.version", version, f"no SageMaker {name} image has this version", str(error).split("; ")[1]
        )
        return None


def memory_share(spec: DeploymentSpec) -> float:
    """The share of GPU memory that holds the weights and the KV cache, as the runtime is told or does."""
    if spec.runtime == "tgi":
        return USABLE_MEMORY_SHARE
    return float(getattr(getattr(spec, spec.runtime), MEMORY_FIELDS[spec.runtime]))


def kv_cache_dtype(spec: DeploymentSpec) -> str | None:
    section = spec.tgi if spec.runtime == "tgi" else getattr(spec, spec.runtime)
    return section.kv_cache_dtype


def check_server_flags(
    section: str,
    flags: Mapping[str, object],
    managed: Mapping[str, str],
    recorded: Mapping[str, FlagList],
    version: str | None,
    add: AddProblem,
) -> None:
    """Flags of ``<section>.flags`` the library sets, that would put a secret in the model's environment, or that the
    server version does not have (where its flag list is recorded: ``version`` None, the image is unknown)."""
    known = recorded.get(version) if version is not None else None
    unknown = dict(unknown_flags(flags, known)) if known is not None else {}
    for flag, value in flags.items():
        path = f"{section}.flags.{flag}"
        if flag.removeprefix(NEGATIVE) in managed:  # --no-trust-remote-code as much as --trust-remote-code
            add(path, value, "this flag is set by the library", f"set {managed[flag.removeprefix(NEGATIVE)]}")
        elif value == "":
            add(path, value, "an empty value passes the bare flag", f"give --{flag} its value (a switch: true)")
        elif any(word in flag.split("-") for word in _SECRET_FLAG_WORDS) or looks_like_credential([str(value)]):
            add(
                path,
                "***",
                "secrets must not be written into the template (nor the model's environment, which DescribeModel "
                "shows)",
                "remove it",
            )
        elif flag in unknown:
            nearest = unknown[flag]
            assert known is not None
            add(
                path,
                value,
                f"{CONTAINER_NAMES[section]} {version} has no --{flag} flag (the server would refuse to start)",
                f"did you mean '{nearest}'?" if nearest else f"see the flags of {known.source.split(':')[0]}",
            )
        elif known is not None and known.is_switch(flag) and not isinstance(value, bool):
            add(path, value, f"--{flag} is a switch: it takes no value", f"write {flag}: true (or false), unquoted")
        elif known is not None and not known.is_switch(flag) and isinstance(value, bool):
            add(path, value, f"--{flag} takes a value, not true/false", f"give --{flag} its value")
        elif known is None and value is False:
            server = f"{CONTAINER_NAMES[section]} {version}" if version else "this image"
            add(
                path,
                value,
                f"whether {server} has --no-{flag} is not recorded (false would leave the flag out, so a flag that "
                "is on by default would stay on)",
                f"leave {flag} out for the server's default, or write no-{flag}: true if the server has that flag",
            )


def resolve_server_token_limits(
    spec: DeploymentSpec,
    context: int | None,
    capacity: int | None,
    instance: InstanceFigures | None,
    num_gpus: int | None,
    weights_bytes: int | None,
    problems: Problems,
) -> TokenLimits:
    """vLLM's max_model_len, SGLang's context_length: given or derived as TGI's max_total_tokens is; checked
    against the model's context and the KV cache the memory setting leaves (one full-length sequence must fit)."""
    section = spec.runtime
    field = CONTEXT_FIELDS[section]
    given = getattr(getattr(spec, section), field)
    total = given or default_token_limits(context, capacity).max_total_tokens
    max_input = total - min(DEFAULT_OUTPUT_TOKEN_BUDGET, total // 2)
    limits = TokenLimits(max_input, total, max_input + PREFILL_TOKENS_OVER_INPUT)
    path = f"{section}.{field}"
    if context is not None and total > context:
        problems.add(path, total, f"the model's context length is {context} tokens", f"use at most {context}")
        return limits
    if capacity is None or instance is None or num_gpus is None or weights_bytes is None:
        return limits
    share = memory_share(spec)
    if capacity < total:
        memory_path = f"{section}.{MEMORY_FIELDS[section]}"
        room = f"{share:g} of {num_gpus} x {instance.gpu} on {instance.name}"
        if capacity < TOKEN_FLOOR:
            problems.add(
                memory_path,
                share,
                f"~{weights_bytes / GB:.1f} GB of weights leave almost no KV cache in {room}",
                "raise it, or use a bigger instance type",
            )
        else:
            problems.add(
                path if given is not None else memory_path,
                total if given is not None else share,
                f"the KV cache left next to ~{weights_bytes / GB:.1f} GB of weights in {room} holds about "
                f"{capacity} tokens, less than one {total}-token sequence (the server refuses to start)",
                f"use at most {capacity}, raise {memory_path}, or use a bigger instance type",
            )
    return limits


TOKEN_FLOOR = 512
"""Fewest tokens of KV cache worth serving: the smallest context window the rules derive."""
