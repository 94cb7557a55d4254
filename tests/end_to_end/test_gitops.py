"""Synthesis as a pipeline runs it: the real CLI, no credentials, no network, no Docker; twice, byte-identical."""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
PIPELINE = "config/pipeline.yaml"


def _sterile_environment() -> dict[str, str]:
    """No AWS credentials or profile, no instance metadata, and every proxied connection refused."""
    keep = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    return {
        **keep,
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_VERSION_CHECK": "1",
    }


def _files(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def busy_workdir(workdir: Path) -> Path:
    """The project as on a machine too busy to synthesize a stack in 10 s: CDK then writes performance counters
    (wall-clock timings) into cdk.out whenever the app lets it. A threshold of 0 ms makes every synthesis "slow"."""
    cdk_json = workdir / "cdk.json"
    settings = json.loads(cdk_json.read_text())
    settings["context"]["@aws-cdk/core.slowSynthThreshold"] = 0
    cdk_json.write_text(json.dumps(settings, indent=2))
    return workdir


def test_pipeline_synth_is_clean_and_two_processes_give_identical_assemblies(busy_workdir: Path) -> None:
    workdir = busy_workdir
    cli = [str(workdir / "node_modules" / ".bin" / "cdk"), "--no-notices", "synth", "--quiet"]
    env = {**_sterile_environment(), "PATH": f"{workdir / '.venv' / 'bin'}:{os.environ['PATH']}"}

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=workdir, capture_output=True, text=True, timeout=600, env=env)

    with ThreadPoolExecutor(2) as pool:
        # The README's pipeline command (synth, cfn-lint on every template, cdk-nag, plan) and a bare CLI synth.
        made = pool.submit(run, ["make", "--no-print-directory", "synth", f"PIPELINE={PIPELINE}"])
        again = pool.submit(run, [*cli, "-c", f"pipeline={PIPELINE}", "-o", "cdk.out.again"])
    for result in (made.result(), again.result()):
        assert result.returncode == 0, result.stdout + result.stderr
        assert "reserved context key" not in result.stdout + result.stderr  # cdk.json holds no aws: keys
    first, second = _files(workdir / "cdk.out"), _files(workdir / "cdk.out.again")
    assert not [name for name in first if name.endswith("performance-counters.json")]  # no timings, however slow
    assert sorted(first) == sorted(second)
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []
    templates = [name for name in first if name.endswith(".template.json")]
    assert len(templates) == 3  # the pipeline and one stack in each of two stages
    assert "missing" not in json.loads(first["manifest.json"])  # no context look-ups
    assert "stage 2: prod" in made.result().stdout  # the plan of every stage


def test_a_default_synth_needs_no_credentials_either(busy_workdir: Path) -> None:
    workdir = busy_workdir
    cli = [str(workdir / "node_modules" / ".bin" / "cdk"), "--no-notices", "synth", "--quiet", "-o", "cdk.out.default"]
    env = {**_sterile_environment(), "PATH": f"{workdir / '.venv' / 'bin'}:{os.environ['PATH']}"}
    result = subprocess.run(cli, cwd=workdir, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.strip() == ""  # no warning of any kind
    manifest = json.loads((workdir / "cdk.out.default" / "manifest.json").read_text())
    assert "missing" not in manifest
    assert not (workdir / "cdk.out.default" / "performance-counters.json").exists()
