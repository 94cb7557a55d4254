"""Where the deployment config comes from: cdk.json context (the default) or a YAML/JSON file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tgi_sagemaker.config.errors import ConfigError, ConfigProblem

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


class ConfigDocument(dict[str, Any]):
    """A config read from a file, with the problems its parser found (keys given twice): ``load_app`` and
    ``load_pipeline`` report them together with every other problem of the config (``parser_problems``)."""

    problems: tuple[ConfigProblem, ...] = ()


def parser_problems(raw: Any) -> list[ConfigProblem]:
    """The problems the file's parser found, for a config ``read_config_file`` returned; none for any other."""
    return list(raw.problems) if isinstance(raw, ConfigDocument) else []


def read_config_file(path: Path) -> Any:
    """The config in a YAML or JSON file. Keys given twice are problems kept with a mapping (``ConfigDocument``),
    reported by the loader with the rest; syntax errors, and keys given twice in a file whose top level is not a
    mapping, are raised at once."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(
            [ConfigProblem("config", str(path), f"cannot read the file ({error.strerror})", "pass an existing file")]
        ) from None
    try:
        if path.suffix == ".json":
            raw, duplicates = _json_with_duplicates(text)
        else:
            raw, duplicates = yaml.safe_load(text), _yaml_duplicates(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ConfigError(
            [
                ConfigProblem(
                    "config", str(path), f"not valid {path.suffix.lstrip('.') or 'YAML'}: {error}", "fix the syntax"
                )
            ]
        ) from None
    if not duplicates:
        return raw
    if not isinstance(raw, dict):
        raise ConfigError(duplicates, str(path))
    document = ConfigDocument(raw)
    document.problems = tuple(duplicates)
    return document


# YAML and JSON parsers keep the last of two equal keys without a word: a value the user wrote would be ignored.
_DUPLICATE = "given twice in the same mapping{where}; the parser silently keeps the last value"
_DUPLICATE_FIX = "keep one of them"


def _yaml_duplicates(text: str) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    seen_nodes: set[int] = set()

    def walk(node: yaml.Node | None, path: str) -> None:
        if node is None or id(node) in seen_nodes:  # aliases share nodes: visit each once
            return
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            lines: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                line = key_node.start_mark.line + 1
                if key in lines and key != "<<":
                    value = value_node.value if isinstance(value_node, yaml.ScalarNode) else "..."
                    where = f" (lines {lines[key]} and {line})"
                    problems.append(
                        ConfigProblem(_join(path, key), value, _DUPLICATE.format(where=where), _DUPLICATE_FIX)
                    )
                lines[key] = line
                walk(value_node, _join(path, key))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, f"{path}[{_item_label(item, index)}]")

    walk(yaml.compose(text, Loader=yaml.SafeLoader), "")
    return problems


def _item_label(item: yaml.Node, index: int) -> str:
    """A list item by its ``name`` where it has one, as config problems name deployments."""
    if isinstance(item, yaml.MappingNode):
        for key_node, value_node in item.value:
            if key_node.value == "name" and isinstance(value_node, yaml.ScalarNode) and value_node.value:
                return str(value_node.value)
    return str(index)


class _Object(dict[str, Any]):
    """A JSON object that remembers the keys given more than once, with the value that was kept."""

    duplicates: list[str]


def _json_with_duplicates(text: str) -> tuple[Any, list[ConfigProblem]]:
    def pairs(items: list[tuple[str, Any]]) -> _Object:
        found = _Object()
        found.duplicates = [key for index, (key, _) in enumerate(items) if key in dict(items[:index])]
        found.update(items)
        return found

    raw = json.loads(text, object_pairs_hook=pairs)
    problems: list[ConfigProblem] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, _Object):
            for key in dict.fromkeys(value.duplicates):
                problems.append(
                    ConfigProblem(_join(path, key), value[key], _DUPLICATE.format(where=""), _DUPLICATE_FIX)
                )
            for key, item in value.items():
                walk(item, _join(path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                name = item.get("name") if isinstance(item, dict) else None
                walk(item, f"{path}[{name if isinstance(name, str) and name else index}]")

    walk(raw, "")
    return _plain(raw), problems


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def read_cdk_json_context(cdk_json: Path) -> Any:
    """The deployment config of a cdk.json, for tools that run outside ``cdk synth``."""
    return json.loads(cdk_json.read_text()).get("context", {}).get(CONTEXT_KEY)
