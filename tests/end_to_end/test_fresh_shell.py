"""`npx cdk ...` from a shell that never activated the venv: cdk.json must run app.py with the project's Python."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _fresh_shell_environment() -> dict[str, str]:
    """This process's environment without what an activated venv or make adds: no .venv on PATH, no VIRTUAL_ENV,
    no PYTHONPATH."""
    path = [entry for entry in os.environ["PATH"].split(os.pathsep) if ".venv" not in Path(entry).parts]
    environment = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PATH"}}
    return {**environment, "PATH": os.pathsep.join(path), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}


def test_the_cdk_cli_lists_the_default_stack_without_an_activated_venv(workdir: Path) -> None:
    result = subprocess.run(
        ["npx", "--no-install", "cdk", "--no-notices", "ls"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        env=_fresh_shell_environment(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == ["TgiSageMaker-r1-distill-llama-8b"]
