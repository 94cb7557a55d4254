"""A copy of the project per test module, sharing the installed .venv and node_modules, so that runs of the
real CLI there never touch the repository's own cdk.out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import ROOT

NOT_COPIED = {"cdk.out", ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("project")
    for entry in ROOT.iterdir():
        if entry.name in {".venv", ".venv-checkov", "node_modules"}:
            (copy / entry.name).symlink_to(entry)
        elif entry.name not in NOT_COPIED:
            (shutil.copytree if entry.is_dir() else shutil.copy2)(entry, copy / entry.name)
    return copy
