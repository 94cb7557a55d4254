"""Config problems: each names the field, the bad value and the fix; all of them are reported at once."""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from tgi_sagemaker.config.credentials import looks_like_credential, redact, redact_text


@dataclass(frozen=True)
class ConfigProblem:
    """One problem; anything in ``field`` or ``value`` that looks like a credential is kept as ``***``, so that no
    message ever echoes one."""

    field: str
    value: Any
    problem: str
    fix: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "field", redact_text(self.field))
        object.__setattr__(self, "value", redact(self.value))

    def __str__(self) -> str:
        return f"{self.field} = {self.value!r}: {self.problem}. Fix: {self.fix}."


class ConfigError(ValueError):
    """Raised with every problem of a config, before any construct exists."""

    def __init__(self, problems: Sequence[ConfigProblem], source: str = "config") -> None:
        self.problems = list(problems)
        self.source = source
        count = len(self.problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source} has {count} problem{'s' if count != 1 else ''}:\n{lines}")


@dataclass
class Problems:
    """The problems found so far in one deployment, each under ``base``, its field path (e.g.
    ``deployments[llama]``; empty for the app's own fields). The rules add to it; the resolver raises them."""

    base: str
    items: list[ConfigProblem] = field(default_factory=list)

    def add(self, path: str, value: Any, problem: str, fix: str) -> None:
        full_path = f"{self.base}.{path}" if self.base and path else path or self.base
        self.items.append(ConfigProblem(full_path, value, problem, fix))


# Unknown keys that name a credential: no "did you mean" towards a field that would then hold it.
_CREDENTIAL_KEY = re.compile(
    r"^(hf_|hub_|huggingface_|hugging_face_hub_|api_|access_|auth_)?(token|api_?key|password|secret)$"
    r"|passw|credential|private_?key",
    re.IGNORECASE,
)

# Hints for pattern errors, by the name of the field that failed.
_PATTERN_FIXES = {
    "id": "use the Hub repo id as 'owner/name', e.g. 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B'",
    "name": "use 2-40 lower-case letters, digits and '-', starting with a letter and ending with a letter or digit",
    "revision": "use a branch, a tag or a 40-hex commit id as shown on the Hub",
    "hf_token_secret": "use the Secrets Manager secret name or its full ARN",
    "hub_endpoint": "use an https:// URL, e.g. 'https://huggingface.co' (a token is sent to it: never over plain HTTP)",
    "availability_zones": "use zone names such as 'us-east-1a'",
    "vpc_id": "use the id as 'vpc-' followed by hex digits",
    "subnet_ids": "use ids as 'subnet-' followed by hex digits",
    "security_group_ids": "use ids as 'sg-' followed by hex digits",
    "s3_prefix_list_id": "use the id as 'pl-' followed by hex digits (aws ec2 describe-managed-prefix-lists "
    "--filters Name=prefix-list-name,Values=com.amazonaws.<region>.s3)",
    "account": "use the 12-digit AWS account id",
    "region": "use a region name such as 'us-east-1'",
    "stack_name_prefix": "start with a letter; use letters, digits and '-' only, up to 64 characters",
    "environment.name": "use 2-20 lower-case letters, digits and '-', e.g. 'dev' or 'prod'",
    "alarm_emails": "give an address such as 'oncall@example.com'",
    "alarm_topic_arn": "use the topic's ARN: arn:aws:sns:<region>:<account>:<name>",
    "connection_arn": "use the CodeConnections connection's ARN (Developer Tools console, Connections)",
    "repository": "use 'owner/name' as the connection knows the repository",
}


def field_path(loc: Iterable[Any], raw: Any) -> str:
    """``deployments[llama-8b].tgi.max_input_tokens``: list items named by their ``name`` where they have one."""
    parts: list[str] = []
    node = raw
    for key in loc:
        if isinstance(key, int):
            label = str(key)
            if isinstance(node, list) and key < len(node):
                node = node[key]
                name = node.get("name") if isinstance(node, dict) else None
                if isinstance(name, str) and name:
                    label = name
            else:
                node = None
            parts.append(f"[{label}]")
        else:
            node = node.get(key) if isinstance(node, dict) else None
            parts.append(f".{key}" if parts else str(key))
    return "".join(parts) or "(top level)"


def problems_from_validation_error(error: ValidationError, raw: Any, root: type[BaseModel]) -> list[ConfigProblem]:
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        value = item.get("input")
        if item["type"] == "missing":
            value = None
        problems.append(ConfigProblem(field_path(loc, raw), value, item["msg"].rstrip("."), _fix_for(item, root)))
    return problems


def _fix_for(item: ErrorDetails, root: type[BaseModel]) -> str:
    kind = item["type"]
    ctx = item.get("ctx") or {}
    loc = [k for k in item["loc"] if not isinstance(k, int)]
    name = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        allowed = _fields_at(root, item["loc"][:-1])
        if _CREDENTIAL_KEY.search(name) or looks_like_credential(item.get("input")):
            return (
                "never put a credential in the config (it would be written into the template): store it in AWS "
                "Secrets Manager and give the secret's name or ARN (weights.hf_token_secret for a Hub token); "
                f"allowed keys here: {', '.join(allowed)}"
            )
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return f"{hint}remove or rename it; allowed keys here: {', '.join(allowed)}"
    if kind == "missing":
        return f"add '{name}'"
    if kind == "literal_error":
        return f"use one of {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        dotted = ".".join(str(key) for key in loc)
        specific = next((fix for path, fix in _PATTERN_FIXES.items() if "." in path and dotted.endswith(path)), None)
        return specific or _PATTERN_FIXES.get(name, f"match the pattern {ctx.get('pattern')}")
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = next(iter(ctx.values()))
        words = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
        return f"use a value {words[kind]} {bound}"
    if kind in ("too_short", "too_long"):
        return "give a list of the allowed length (at least one entry)" if kind == "too_short" else "shorten the list"
    if kind.startswith(("int_", "float_")):
        return "give a plain number"
    if kind.startswith("bool"):
        return "give true or false"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "give a mapping of keys to values"
    if kind in ("list_type",):
        return "give a list"
    if kind.startswith("string"):
        return "give a string"
    return "see the README's configuration reference"


def _fields_at(root: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """Field names of the model found by walking ``loc`` from ``root`` (list indexes skipped)."""
    model: Any = root
    for key in loc:
        if isinstance(key, int):
            continue
        field = model.model_fields.get(key) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return []
        model = _model_in(field.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
