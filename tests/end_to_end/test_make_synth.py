"""`make synth` through the real CDK CLI: good configs give linted templates and a plan; bad ones give none."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _make_synth(workdir: Path, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    args = ["make", "--no-print-directory", "-C", str(workdir), "synth"]
    if config is not None:
        args.append(f"CONFIG={config}")
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env={**os.environ})


def test_make_synth_of_the_default_deployment_is_clean(workdir: Path) -> None:
    result = _make_synth(workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [p.name for p in (workdir / "cdk.out").glob("*.template.json")] == [
        "TgiSageMaker-r1-distill-llama-8b.template.json"
    ]
    assert "SM_NUM_GPUS=1" in result.stdout and "ml.g5.2xlarge" in result.stdout
    noise = [line for line in (result.stdout + result.stderr).splitlines() if "warn" in line.lower()]
    assert noise == []


def test_make_synth_of_a_config_file_synthesizes_each_deployment(workdir: Path) -> None:
    result = _make_synth(workdir, workdir / "config" / "example.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in (workdir / "cdk.out").glob("*.template.json")) == [
        "TgiSageMaker-r1-qwen-1-5b.template.json",
        "TgiSageMaker-r1-qwen-14b.template.json",
    ]


def test_make_synth_of_hub_weights_passes_checkov_on_its_reasons(workdir: Path) -> None:
    hub = workdir / "hub.yaml"
    hub.write_text(
        "deployments:\n"
        "  - name: hub\n"
        "    model: {id: deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B}\n"
        "    weights: {source: hub}\n"
    )
    result = _make_synth(workdir, hub)
    assert result.returncode == 0, result.stdout + result.stderr
    # No revision: it deploys (outside production), and check-findings shows why that may serve two model versions
    # at once: advice, not a failure
    assert "note (advice, not a failure): Construct Annotations: Annotation::tgi-sagemaker:unpinnedHubRevision" in (
        result.stderr
    )
    assert "Passed checks: " in result.stdout and "Failed checks: 0" in result.stdout
    (template,) = (workdir / "cdk.out").glob("*.template.json")
    (model,) = [
        r for r in json.loads(template.read_text())["Resources"].values() if r["Type"] == "AWS::SageMaker::Model"
    ]
    assert [skip["id"] for skip in model["Metadata"]["checkov"]["skip"]] == ["CKV_AWS_370"]


def test_make_synth_of_a_bad_config_fails_and_writes_no_templates(workdir: Path) -> None:
    bad = workdir / "bad.yaml"
    bad.write_text(
        "deployments:\n"
        "  - name: too-big\n"
        "    model: {id: deepseek-ai/DeepSeek-R1-Distill-Llama-70B}\n"
        "    instance_type: ml.g5.2xlarge\n"
        "    tgi: {max_input_tokens: 9000, max_total_tokens: 8000, dtype: bfloat16, quantize: awq}\n"
    )
    result = _make_synth(workdir, bad)
    assert result.returncode != 0
    assert "has 4 problems" in result.stderr
    assert "deployments[too-big].instance_type = 'ml.g5.2xlarge'" in result.stderr
    assert "deployments[too-big].tgi.max_input_tokens = 9000" in result.stderr
    assert "deployments[too-big].tgi.dtype = 'bfloat16'" in result.stderr
    assert "deployments[too-big].tgi.quantize = 'awq'" in result.stderr  # the 70B distill is not an AWQ repo
    assert list((workdir / "cdk.out").glob("*.template.json")) == []


def _model_template(isolated: bool) -> str:
    model = {
        "Type": "AWS::SageMaker::Model",
        "Properties": {
            "ExecutionRoleArn": "arn:aws:iam::111122223333:role/tgi",
            "EnableNetworkIsolation": isolated,
            "PrimaryContainer": {"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/tgi:latest"},
        },
    }
    return json.dumps({"Resources": {"Model": model}})


def test_make_scans_every_assembly_with_checkov_on_its_own(workdir: Path) -> None:
    """The pipeline's cdk.out: the pipeline template at the top, each stage's in its own folder below."""
    out = workdir / "cdk.out"
    shutil.rmtree(out, ignore_errors=True)
    (out / "assembly-pipeline-prod").mkdir(parents=True)
    (out / "pipeline.template.json").write_text(_model_template(isolated=True))
    (out / "assembly-pipeline-prod" / "prod.template.json").write_text(_model_template(isolated=False))
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(workdir), "checkov-templates"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert result.stdout.count("checkov: ") == 2, result.stdout
    assert "CKV_AWS_370" in result.stdout and "prod.template.json" in result.stdout
    shutil.rmtree(out)
