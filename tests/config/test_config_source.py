"""Reading the config: cdk.json context by default, or a YAML/JSON file; the CLI plan over the same path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers import ROOT
from tgi_sagemaker import ConfigError, load_app
from tgi_sagemaker.cli.command_line import main
from tgi_sagemaker.config.errors import ConfigProblem
from tgi_sagemaker.config.source import read_config, read_config_file


def test_example_yaml_has_two_deployments_that_resolve() -> None:
    raw, source = read_config(str(ROOT / "config" / "example.yaml"), context_value={"ignored": True})
    app = load_app(raw, source)
    assert [d.stack_name for d in app.deployments] == ["TgiSageMaker-r1-qwen-14b", "TgiSageMaker-r1-qwen-1-5b"]
    assert app.deployments[0].settings_environment["MAX_TOTAL_TOKENS"] == "8192"
    assert app.deployments[0].tags == {
        "tgi-sagemaker:deployment": "r1-qwen-14b",  # cost allocation, on by default
        "tgi-sagemaker:model": "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B",
        "project": "tgi-sagemaker",
        "cost-center": "ml-platform",
    }


def test_json_file_and_context_are_read_alike(tmp_path: Path) -> None:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]["tgi-sagemaker"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(context))
    assert read_config(str(path), None)[0] == read_config(None, context)[0]


def test_missing_file_and_bad_syntax_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config = '.*nope.yaml': cannot read the file"):
        read_config_file(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("deployments: [\n")
    with pytest.raises(ConfigError, match="not valid yaml"):
        read_config_file(broken)


def _problems_of_file(path: Path) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as raised:
        load_app(read_config_file(path), str(path))
    return raised.value.problems


def test_a_key_given_twice_is_an_error_not_the_last_value(tmp_path: Path) -> None:
    config = tmp_path / "twice.yaml"
    config.write_text(
        "tags: {team: ml}\n"
        "deployments:\n"
        "  - name: r1-8b\n"
        "    model: {id: deepseek-ai/DeepSeek-R1-Distill-Llama-8B}\n"
        "    tgi:\n"
        "      max_total_tokens: 8192\n"
        "      max_input_tokens: 4096\n"
        "      max_total_tokens: 2048\n"
        "tags: {team: platform}\n"
    )
    problems = _problems_of_file(config)
    assert [(p.field, p.value) for p in problems] == [
        ("deployments[r1-8b].tgi.max_total_tokens", "2048"),
        ("tags", "..."),
        # The rules still run, on the value the parser kept: 4096 input tokens do not fit 2048 in all.
        ("deployments[r1-8b].tgi.max_input_tokens", 4096),
    ]
    message = "\n".join(map(str, problems))
    assert "(lines 6 and 8)" in message and "(lines 1 and 9)" in message and "silently keeps the last" in message
    as_json = tmp_path / "twice.json"
    as_json.write_text('{"deployments": [{"name": "a", "model": {"id": "x/y", "id": "x/z"}}]}')
    problems = _problems_of_file(as_json)
    first = problems[0]
    assert (first.field, first.value) == ("deployments[a].model.id", "x/z")
    assert "silently keeps the last" in first.problem


def test_a_key_given_twice_is_reported_with_the_other_problems(tmp_path: Path) -> None:
    # The new user's case: a duplicate key hid the duplicate deployment name (and the schema's problems).
    config = tmp_path / "twice.yaml"
    config.write_text(
        "deployments:\n"
        "  - name: r1-8b\n"
        "    model: {id: deepseek-ai/DeepSeek-R1-Distill-Llama-8B}\n"
        "    instance_type: ml.g5.2xlarge\n"
        "    instance_type: ml.g5.4xlarge\n"
        "  - name: r1-8b\n"
        "    model: {id: deepseek-ai/DeepSeek-R1-Distill-Llama-8B}\n"
        "    num_gpus: 0\n"
    )
    problems = _problems_of_file(config)
    assert [(p.field, p.value) for p in problems] == [
        ("deployments[r1-8b].instance_type", "ml.g5.4xlarge"),
        ("deployments[r1-8b].num_gpus", 0),
        ("deployments[r1-8b].name", "r1-8b"),
    ]
    assert "given twice" in problems[0].problem and "same name" in problems[2].problem


def test_a_key_given_twice_in_a_file_that_is_no_mapping_is_raised_at_once(tmp_path: Path) -> None:
    config = tmp_path / "list.yaml"
    config.write_text("- {a: 1, a: 2}\n")
    with pytest.raises(ConfigError, match="given twice"):
        read_config_file(config)


def test_no_context_and_no_file_says_how_to_give_one() -> None:
    hint = "add a 'tgi-sagemaker' object to cdk.json context or pass -c config=PATH"
    with pytest.raises(ConfigError, match=re.escape(hint)):
        read_config(None, None)


def test_cli_plan_prints_every_deployment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--config", str(ROOT / "config" / "example.yaml")]) == 0
    out = capsys.readouterr().out
    assert "TgiSageMaker-r1-qwen-14b" in out and "ml.g6e.2xlarge: 1 of 1 x NVIDIA L40S 48 GiB" in out
    assert "MAX_TOTAL_TOKENS=8192" in out and "no VPC (SageMaker-managed network)" in out


def test_cli_plan_reports_config_errors_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "deployments:\n  - name: x1\n    model: {id: deepseek-ai/DeepSeek-R1}\n    instance_type: ml.g5.2xlarge\n"
    )
    assert main(["plan", "--config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "deployments[x1].instance_type = 'ml.g5.2xlarge'" in err and "ml.p5e.48xlarge" in err


def test_cli_catalog_json_lists_models_with_fits(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--json"]) == 0
    catalog = json.loads(capsys.readouterr().out)
    by_id = {m["repo_id"]: m for m in catalog["models"]}
    assert by_id["deepseek-ai/DeepSeek-R1-Distill-Llama-8B"]["fits"]["ml.g5.2xlarge"] == 1
    assert "ml.g5.2xlarge" not in by_id["deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"]["fits"]
    assert len(catalog["instance_types"]) == 29


def test_cli_catalog_shows_the_defaults_a_deployment_gets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the table folds cells to the terminal's width
    assert main(["catalog", "--json"]) == 0
    by_id = {m["repo_id"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    llama = by_id["deepseek-ai/DeepSeek-R1-Distill-Llama-8B"]["defaults"]
    assert (llama["instance_type"], llama["num_gpus"], llama["max_input_tokens"], llama["max_total_tokens"]) == (
        "ml.g5.2xlarge",
        1,
        3072,
        4096,
    )
    assert by_id["deepseek-ai/DeepSeek-R1-Distill-Qwen-14B"]["defaults"]["num_gpus"] == 4  # 40 heads over 4 GPUs
    assert by_id["deepseek-ai/DeepSeek-R1"]["defaults"]["kv_cache_token_capacity"] is None  # MLA: not estimated
    assert main(["catalog"]) == 0
    table = capsys.readouterr().out
    assert "DeepSeek-R1-Zero" in table and "p5e, p5en" in table and "3072/4096/3200" in table


def test_cli_plan_prints_the_container_environment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--cdk-json", str(ROOT / "cdk.json")]) == 0
    environment = next(line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("env "))
    assert "HF_MODEL_ID=/opt/ml/model" in environment and "SM_NUM_GPUS=1" in environment
    assert "HF_TOKEN" not in environment
