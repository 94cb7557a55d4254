"""Where the deployment config comes from: cdk.json context (the default) or a YAML/JSON file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tgi_sagemaker.config_errors import ConfigError, ConfigProblem

CONTEXT_KEY = "tgi-sagemaker"
CONFIG_FILE_CONTEXT_KEY = "config"
PIPELINE_FILE_CONTEXT_KEY = "pipeline"


def read_config(config_path: str | None, context_value: Any) -> tuple[Any, str]:
    """The raw config and a label for messages: the file named by ``-c config=PATH``, else the context key."""
    if config_path:
        return read_config_file(Path(config_path)), str(config_path)
    if context_value is None:
        raise ConfigError(
            [
                ConfigProblem(
                    f"context.{CONTEXT_KEY}",
                    None,
                    "no deployment config found",
                    f"add a '{CONTEXT_KEY}' object to cdk.json context or pass -c {CONFIG_FILE_CONTEXT_KEY}=PATH",
                )
            ]
        )
    return context_value, f"cdk.json context '{CONTEXT_KEY}'"


def read_config_file(path: Path) -> Any:
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(
            [ConfigProblem("config", str(path), f"cannot read the file ({error.strerror})", "pass an existing file")]
        ) from None
    try:
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ConfigError(
            [
                ConfigProblem(
                    "config", str(path), f"not valid {path.suffix.lstrip('.') or 'YAML'}: {error}", "fix the syntax"
                )
            ]
        ) from None


def read_cdk_json_context(cdk_json: Path) -> Any:
    """The deployment config of a cdk.json, for tools that run outside ``cdk synth``."""
    return json.loads(cdk_json.read_text()).get("context", {}).get(CONTEXT_KEY)
