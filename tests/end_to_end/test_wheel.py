"""The built distribution carries the weights copy's runtime: a wheel, installed in a fresh venv with no checkout
in sight, synthesizes the default deployment, its copy functions' asset included, exactly as a checkout does.

Nothing is downloaded: the wheel is built with the dev venv's setuptools (no build isolation), installed by the dev
venv's pip into a venv made without pip, and the library's dependencies are borrowed from the dev venv's installed
packages (a ``.pth`` file, whose folders' own ``.pth`` files Python does not run: the checkout's editable install
stays out).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from helpers import ROOT, Synthesized, cdk_json_context

pytestmark = pytest.mark.slow

README = (ROOT / "README.md").read_text()

RUNTIME_IN_WHEEL = "tgi_sagemaker/hub_weights_copy/runtime/"
PIP_WHEEL = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
BUILD_LEFTOVERS = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", "cdk.out")
# Where this run's interpreter finds its installed packages: the dev venv's (and any folder it adds that way).
INSTALLED_PACKAGES = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]
# Run in the fresh venv: where the library comes from, and that nothing of the repository can be imported.
PROBE = """
import importlib.util, json, sys
import tgi_sagemaker
print(json.dumps({
    "library": tgi_sagemaker.__file__,
    "weights_copy": importlib.util.find_spec("weights_copy") is not None,
    "stacks": importlib.util.find_spec("stacks") is not None,
    "editable_finders": [type(f).__name__ for f in sys.meta_path if "editable" in repr(f).lower()],
    "path": sys.path,
}))
"""


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What pip sees when it installs from Git: the library's folder and the runtime's source beside it, links
    kept as links (a clone's are), without this repository's build leftovers."""
    folder = tmp_path_factory.mktemp("checkout")
    for name in ("constructs", "lambda"):
        shutil.copytree(ROOT / name, folder / name, symlinks=True, ignore=BUILD_LEFTOVERS)
    return folder


@pytest.fixture(scope="module")
def wheel(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built straight from the checkout, as ``pip install git+...#subdirectory=constructs`` builds it."""
    dist = tmp_path_factory.mktemp("dist")
    _run([*PIP_WHEEL, "-w", str(dist), "."], cwd=checkout / "constructs")
    (built,) = dist.glob("tgi_sagemaker-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel; the dependencies come from the dev venv, the library only from the wheel."""
    folder = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", str(folder)], cwd=folder)
    python = folder / "bin" / "python"
    install = ["install", "--no-deps", "--no-index", str(wheel)]
    _run([sys.executable, "-m", "pip", "--python", str(python), *install], cwd=folder)
    where = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=folder)
    site_packages = Path(where.stdout.strip())
    (site_packages / "borrowed-dev-packages.pth").write_text("".join(f"{p}\n" for p in INSTALLED_PACKAGES))
    return python


def _clean_env() -> dict[str, str]:
    """This process's environment without what would make the checkout importable."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}


def _runtime_files(names: list[str], prefix: str) -> set[str]:
    return {n.removeprefix(prefix) for n in names if n.startswith(prefix) and n.endswith(".py")}


def _source_runtime() -> set[str]:
    source = ROOT / "lambda" / "weights_copy"
    return {p.relative_to(source).as_posix() for p in source.rglob("*.py") if "__pycache__" not in p.parts}


def test_the_wheel_carries_every_module_of_the_runtime(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        assert _runtime_files(archive.namelist(), RUNTIME_IN_WHEEL) == _source_runtime()


def test_the_wheel_carries_every_file_of_the_library(wheel: Path) -> None:
    """Modules and data (image tables, flag lists, the price snapshot): a file left out of package-data is found
    only when the code that reads it runs, in a user's install."""
    library = ROOT / "constructs" / "tgi_sagemaker"
    tracked = subprocess.run(
        ["git", "ls-files", "--", "."], cwd=library, capture_output=True, text=True, check=True
    ).stdout.split()
    expected = {
        f"tgi_sagemaker/{path}" for path in tracked if (library / path).is_file() and not (library / path).is_symlink()
    }
    with zipfile.ZipFile(wheel) as archive:
        carried = {name for name in archive.namelist() if not name.startswith(RUNTIME_IN_WHEEL)}
    assert sorted(expected - carried) == []


def test_the_sdist_carries_the_runtime_as_files_and_builds_the_same_wheel(
    checkout: Path, wheel: Path, tmp_path: Path
) -> None:
    """The source distribution holds the runtime's files themselves (not a link out of the archive), so a wheel
    built from it, as ``python -m build`` does, carries the same runtime."""
    sdist_dir, wheel_dir = tmp_path / "sdist", tmp_path / "wheel"
    build = "import sys; from setuptools import build_meta; print(build_meta.build_sdist(sys.argv[1]))"
    name = _run([sys.executable, "-c", build, str(sdist_dir)], cwd=checkout / "constructs").stdout.split()[-1]
    with tarfile.open(sdist_dir / name) as archive:
        members = {m.name: m for m in archive.getmembers()}
    root = name.removesuffix(".tar.gz") + "/"
    runtime = [m for n, m in members.items() if n.startswith(root + RUNTIME_IN_WHEEL)]
    assert runtime and all(m.isfile() or m.isdir() for m in runtime)
    assert _runtime_files(list(members), root + RUNTIME_IN_WHEEL) == _source_runtime()
    unpacked = tmp_path / "unpacked"
    with tarfile.open(sdist_dir / name) as archive:
        archive.extractall(unpacked, filter="data")
    _run([*PIP_WHEEL, "-w", str(wheel_dir), str(unpacked / root)], cwd=tmp_path)
    (from_sdist,) = wheel_dir.glob("*.whl")
    with zipfile.ZipFile(from_sdist) as built, zipfile.ZipFile(wheel) as direct:
        assert sorted(built.namelist()) == sorted(direct.namelist())


def test_the_installed_library_comes_from_the_wheel_alone(venv: Path, tmp_path: Path) -> None:
    probe = json.loads(_run([str(venv), "-c", PROBE], cwd=tmp_path, env=_clean_env()).stdout)
    assert Path(probe["library"]).is_relative_to(venv.parents[1]), probe["library"]
    assert not probe["weights_copy"] and not probe["stacks"] and probe["editable_finders"] == []
    repository = {ROOT, ROOT / "constructs", ROOT / "lambda" / "weights_copy", ROOT / "tests"}
    assert not repository & {Path(p).resolve() for p in probe["path"] if p}, probe["path"]


def test_a_wheel_installed_library_synthesizes_the_default_deployment_as_a_checkout_does(
    venv: Path, tmp_path: Path, default_app: Synthesized
) -> None:
    """A platform team's app (this repository's app.py and stacks/, copied out) on the wheel: the same template as
    the checkout's synth, and the copy functions' asset folder holds the runtime's modules and nothing else."""
    app = tmp_path / "app"
    shutil.copytree(ROOT / "stacks", app / "stacks", ignore=BUILD_LEFTOVERS)
    shutil.copy2(ROOT / "app.py", app / "app.py")
    outdir = app / "cdk.out"
    env = {
        **_clean_env(),
        "CDK_OUTDIR": str(outdir),  # what the CDK CLI passes an app
        "CDK_CONTEXT_JSON": json.dumps({**cdk_json_context(), "aws:cdk:enable-path-metadata": True}),
    }
    _run([str(venv), "app.py"], cwd=app, env=env)
    (template_file,) = outdir.glob("*.template.json")
    template: dict[str, Any] = json.loads(template_file.read_text())
    assert template == default_app.raw()
    keys = {
        resource["Properties"]["Code"]["S3Key"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        and str(resource["Properties"].get("Handler", "")).startswith("weights_copy.")
    }
    (key,) = keys
    asset = outdir / f"asset.{key.removesuffix('.zip')}"
    assert {p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file()} == _source_runtime()


def test_the_installed_runtime_runs_as_the_shell_copy(venv: Path, tmp_path: Path) -> None:
    """The README's recipe for the shell copy from an installed library: the runtime beside the construct."""
    recipe = re.search(r'PYTHONPATH=\$\(python -c "(.*?)"\) python -m weights_copy', README, re.S)
    assert recipe is not None, "the README gives the shell copy from an installed library"
    where = recipe.group(1).replace("\n", " ")
    runtime = _run([str(venv), "-c", where], cwd=tmp_path, env=_clean_env()).stdout.strip()
    assert Path(runtime).is_relative_to(venv.parents[1])
    shell = _run([str(venv), "-m", "weights_copy", "--help"], cwd=tmp_path, env={**_clean_env(), "PYTHONPATH": runtime})
    assert "default: the repo's default branch" in " ".join(shell.stdout.split())  # argparse wraps lines
