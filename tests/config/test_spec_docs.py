"""Every optional field of the spec says its default in its docstring, and the value it says is the value it has."""

from __future__ import annotations

import ast
import inspect
import re
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from tgi_sagemaker.config import pipeline, spec

SPEC_MODULES = (spec, pipeline)


def _documented_fields() -> list[tuple[type[BaseModel], str, str | None]]:
    """(model, field, docstring or None) for every field with a default, as the source declares them."""
    found = []
    for module in SPEC_MODULES:
        for node in ast.parse(inspect.getsource(module)).body:
            model = getattr(module, node.name, None) if isinstance(node, ast.ClassDef) else None
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue
            body = node.body
            for index, statement in enumerate(body):
                if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
                    continue
                name = statement.target.id
                field = model.model_fields.get(name)
                if field is None or field.is_required():
                    continue
                annotation = field.annotation
                if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                    continue  # a whole section: each of its own fields states its default
                following = body[index + 1] if index + 1 < len(body) else None
                docstring = (
                    following.value.value
                    if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                    else None
                )
                found.append((model, name, docstring))
    return found


def _stated(value: Any) -> str | None:
    """How a docstring states a plain default; None for values only words can state (lists, factories, None)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}"
    if isinstance(value, str):
        return value
    return None


FIELDS = _documented_fields()


@pytest.mark.parametrize(("model", "name", "docstring"), FIELDS, ids=[f"{m.__name__}.{n}" for m, n, _ in FIELDS])
def test_every_optional_field_states_its_default(model: type[BaseModel], name: str, docstring: str | None) -> None:
    assert docstring is not None and "Default:" in docstring, f"{model.__name__}.{name} does not state its default"
    default = model.model_fields[name].default
    stated = None if default is PydanticUndefined else _stated(default)
    if stated is not None:
        said = docstring.split("Default:", 1)[1].replace("``", "")
        assert re.search(rf"(?<![\w.]){re.escape(stated)}(?!\w)", said), (
            f"{model.__name__}.{name} = {default!r}: {said!r}"
        )


def test_the_fields_are_found() -> None:
    names = {f"{model.__name__}.{name}" for model, name, _ in FIELDS}
    assert {"WeightsSpec.part_size_mb", "ScalingSpec.max_instances", "PipelineSpec.branch"} <= names
