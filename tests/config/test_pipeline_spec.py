"""Pipeline config: every stage's config is checked too, and each problem names the field, the value and the fix."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers import ROOT
from tgi_sagemaker import ConfigError
from tgi_sagemaker.config.pipeline import load_pipeline
from tgi_sagemaker.config.source import read_config_file

PIPELINE = read_config_file(ROOT / "config" / "pipeline.yaml")
DEV = read_config_file(ROOT / "config" / "dev.yaml")
PROD = read_config_file(ROOT / "config" / "prod.yaml")


def _problems(tmp_path: Path, pipeline: Any, dev: Any = DEV, prod: Any = PROD) -> list[str]:
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "dev.yaml").write_text(yaml.safe_dump(dev))
    (tmp_path / "config" / "prod.yaml").write_text(yaml.safe_dump(prod))
    try:
        load_pipeline(pipeline, "pipeline.yaml", tmp_path)
    except ConfigError as error:
        return [str(problem) for problem in error.problems]
    return []


def _changed(document: Any, path: str, value: Any) -> Any:
    changed = copy.deepcopy(document)
    *parents, last = path.split(".")
    target = changed
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return changed


def test_the_shipped_pipeline_and_environments_resolve(tmp_path: Path) -> None:
    pipeline = load_pipeline(PIPELINE, "config/pipeline.yaml", ROOT)
    assert [stage.name for stage in pipeline.stages] == ["dev", "prod"]
    assert [d.stack_name for s in pipeline.stages for d in s.app.deployments] == [
        "TgiSageMaker-dev-r1-llama-8b",
        "TgiSageMaker-prod-r1-llama-8b",
    ]
    assert pipeline.cross_account
    assert _problems(tmp_path, PIPELINE) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("pipeline.connection_arn", None),
            "pipeline.connection_arn = None: Field required. Fix: add 'connection_arn'",
        ),
        (
            ("pipeline.connection_arn", "arn:aws:codeconnections:us-east-1:111122223333:connection/nope"),
            "Fix: use the CodeConnections connection's ARN",
        ),
        (("pipeline.repository", "tgi-sagemaker"), "Fix: use 'owner/name'"),
        (("pipeline.stages", []), "pipeline.stages = []"),
        (
            ("pipeline.stages.1.smoke_test", True),
            "pipeline.stages[1].smoke_test = True: config/prod.yaml deploys to account 444455556666; the "
            "pipeline's role in 111122223333 cannot invoke an endpoint there. Fix: set smoke_test: false",
        ),
        (
            ("pipeline.stages.1.config", "config/dev.yaml"),
            "pipeline.stages[1].config -> environment.name = 'dev': stage 0 has the same environment name",
        ),
        (("pipeline.stages.0.config", "config/missing.yaml"), "cannot read the file"),
    ],
)
def test_each_pipeline_problem_names_field_value_and_fix(
    tmp_path: Path, change: tuple[str, Any], expected: str
) -> None:
    problems = _problems(tmp_path, _changed(PIPELINE, *change))
    assert len(problems) == 1 and expected in problems[0], problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("environment.region", None), "pipeline.stages[0].config -> environment.region = None"),
        (("environment.region", None), "set environment.region (and account) to the zones' region"),
        (("environment.name", None), "Fix: set environment.name in config/dev.yaml"),
        (
            ("deployments.0.network.availability_zones", ["eu-west-1a"]),
            "pipeline.stages[0].config -> deployments[r1-llama-8b].network.availability_zones",
        ),
    ],
)
def test_a_stage_configs_problems_are_reported_with_the_stage(
    tmp_path: Path, change: tuple[str, Any], expected: str
) -> None:
    problems = _problems(tmp_path, PIPELINE, dev=_changed(DEV, *change))
    assert any(expected in problem for problem in problems), problems
    assert all(problem.startswith("pipeline.stages[0].config -> ") for problem in problems)


def test_every_problem_of_every_stage_at_once(tmp_path: Path) -> None:
    dev = _changed(_changed(DEV, "environment.account", None), "deployments.0.instance_type", "ml.g5.3xlarge")
    prod = _changed(PROD, "deployments.0.name", "Prod")
    problems = _problems(tmp_path, _changed(PIPELINE, "pipeline.stages.1.smoke_test", True), dev=dev, prod=prod)
    assert len(problems) == 4, problems
    assert sum("stages[0]" in p for p in problems) == 2 and sum("stages[1]" in p for p in problems) == 2
