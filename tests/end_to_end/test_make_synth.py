"""`make synth` through the real CDK CLI: good configs give linted templates and a plan; bad ones give none."""

from __future__ import annotations

import os
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
    assert "has 3 problems" in result.stderr
    assert "deployments[too-big].instance_type = 'ml.g5.2xlarge'" in result.stderr
    assert "deployments[too-big].tgi.max_input_tokens = 9000" in result.stderr
    assert "deployments[too-big].tgi.dtype = 'bfloat16'" in result.stderr
    assert list((workdir / "cdk.out").glob("*.template.json")) == []
