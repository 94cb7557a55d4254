"""Record a server version's command-line flags from its source (``tgi_sagemaker/runtimes/<runtime>/*_flags.json``).

    python constructs/tools/refresh_flags.py vllm /path/to/vllm-0.17.0-....whl
    python constructs/tools/refresh_flags.py sglang /path/to/sglang-0.5.8-py3-none-any.whl

(``pip download --no-deps --only-binary :all: vllm==0.17.0`` fetches a wheel: no need to install it, which would
need CUDA.) The flags are read from the Python source with ``ast``, without importing it:
- every ``"--flag"`` string in an ``add_argument`` call of the files below;
- vLLM only: every field of the frontend argument classes, which ``BaseFrontendArgs.add_cli_args`` turns into
  ``--field-name`` in a loop (``vllm/entrypoints/openai/cli_args.py``).
"""

from __future__ import annotations

import argparse
import ast
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

RUNTIMES = Path(__file__).resolve().parents[1] / "tgi_sagemaker" / "runtimes"


@dataclass(frozen=True)
class FlagSource:
    server: str
    output: Path
    files: tuple[str, ...]
    field_classes: tuple[str, ...] = ()


SOURCES = {
    "vllm": FlagSource(
        "vllm",
        RUNTIMES / "vllm" / "vllm_flags.json",
        ("vllm/engine/arg_utils.py", "vllm/entrypoints/openai/cli_args.py"),
        ("BaseFrontendArgs", "FrontendArgs"),
    ),
    "sglang": FlagSource("sglang", RUNTIMES / "sglang" / "sglang_flags.json", ("sglang/srt/server_args.py",)),
}


def _add_argument_flags(tree: ast.AST) -> set[str]:
    flags = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
            for argument in node.args:
                if isinstance(argument, ast.Constant) and str(argument.value).startswith("--"):
                    flags.add(str(argument.value)[2:])
    return flags


def _field_flags(tree: ast.AST, class_names: tuple[str, ...]) -> set[str]:
    flags = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name in class_names:
            for statement in node.body:
                if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                    name = statement.target.id
                    if not name.startswith("_"):
                        flags.add(name.replace("_", "-"))
    return flags


def server_flags(source: FlagSource, wheel: Path) -> tuple[str, list[str]]:
    """The server's version (from the wheel's name) and its flags, sorted."""
    version = wheel.name.split("-")[1]
    flags: set[str] = set()
    with zipfile.ZipFile(wheel) as archive:
        for file_name in source.files:
            tree = ast.parse(archive.read(file_name).decode())
            flags |= _add_argument_flags(tree) | _field_flags(tree, source.field_classes)
    if not flags:
        raise SystemExit(f"no flags found in {wheel.name}: has the source moved?")
    return version, sorted(flags)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runtime", choices=sorted(SOURCES))
    parser.add_argument("wheel", type=Path, help="the server's wheel, e.g. vllm-0.17.0-cp38-abi3-....whl")
    arguments = parser.parse_args()
    source = SOURCES[arguments.runtime]
    version, flags = server_flags(source, arguments.wheel)
    recorded = json.loads(source.output.read_text()) if source.output.exists() else {"versions": {}}
    recorded["server"] = source.server
    recorded["versions"][version] = {"source": f"{arguments.wheel.name}: {', '.join(source.files)}", "flags": flags}
    source.output.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    print(f"wrote {source.output}: {source.server} {version}, {len(flags)} flags")


if __name__ == "__main__":
    main()
