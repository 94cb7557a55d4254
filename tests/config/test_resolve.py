"""The resolver returns a deployment or raises its problems: a deployment is never left out without a word."""

from __future__ import annotations

import dataclasses
import json

import pytest

from helpers import config_with, problems_of
from tgi_sagemaker import ConfigError, load_app
from tgi_sagemaker.catalog.models import MODELS
from tgi_sagemaker.cli.command_line import main
from tgi_sagemaker.cli.plan import catalog_entries
from tgi_sagemaker.config import resolve
from tgi_sagemaker.config.resolve import ResolvedDeployment, resolve_deployment
from tgi_sagemaker.config.spec import DeploymentSpec, ModelSpec

LLAMA_8B = "deepseek-ai/DeepSeek-R1-Distill-Llama-8B"
TYPO = "ml.g5.2xlarg"


@pytest.fixture
def catalog_with_a_typo(monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalog's Llama 8B entry recommending an instance type that does not exist."""
    monkeypatch.setitem(MODELS, LLAMA_8B, dataclasses.replace(MODELS[LLAMA_8B], recommended_instance=TYPO))


@pytest.mark.usefixtures("catalog_with_a_typo")
def test_a_catalog_entry_recommending_an_unknown_instance_is_a_problem_not_a_dropped_deployment() -> None:
    config = config_with({"model.id": LLAMA_8B, "instance_type": None})
    with pytest.raises(ConfigError) as raised:
        load_app(config)  # it once returned an app of 0 deployments, and no error
    (problem,) = raised.value.problems
    assert problem.field == "deployments[r1-distill-llama-8b].instance_type"
    assert f"the catalog recommends '{TYPO}' for '{LLAMA_8B}'" in problem.problem
    assert "ml.g5.xlarge" in problem.fix  # the first of the entry's blog instances this library knows


@pytest.mark.usefixtures("catalog_with_a_typo")
def test_the_catalog_command_reports_a_broken_entry(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match=f"catalog\\[{LLAMA_8B}\\].instance_type"):
        catalog_entries()
    assert main(["catalog", "--json"]) == 1
    assert TYPO in capsys.readouterr().err


def test_the_catalog_command_gives_every_model_its_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--json"]) == 0
    models = json.loads(capsys.readouterr().out)["models"]
    assert [model["repo_id"] for model in models] == list(MODELS)
    for model in models:
        assert model["defaults"]["instance_type"] == model["recommended_instance"]


def test_resolve_deployment_returns_a_deployment_or_raises_its_problems() -> None:
    spec = DeploymentSpec(name="alone", model=ModelSpec(id=LLAMA_8B))
    assert isinstance(resolve_deployment(spec, app=None), ResolvedDeployment)
    too_small = spec.model_copy(update={"instance_type": "ml.g5.xlarge", "num_gpus": 4})
    with pytest.raises(ConfigError) as raised:
        resolve_deployment(too_small, app=None)
    assert [p.field for p in raised.value.problems] == ["deployments[alone].num_gpus"]


def test_a_rule_that_decides_nothing_and_says_nothing_still_fails_the_deployment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(resolve, "resolve_instance", lambda spec, model, problems: None)
    (problem,) = problems_of(config_with())
    assert problem.field == "deployments[r1-distill-llama-8b].instance_type"
    assert "left undecided" in problem.problem
