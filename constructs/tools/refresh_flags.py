"""Record a server version's command-line flags from its source (``tgi_sagemaker/runtimes/<runtime>/*_flags.json``).

    python constructs/tools/refresh_flags.py vllm /path/to/vllm-0.17.0-....whl
    python constructs/tools/refresh_flags.py sglang /path/to/sglang-0.5.8-py3-none-any.whl

(``pip download --no-deps --only-binary :all: vllm==0.17.0`` fetches a wheel: no need to install it, which would
need CUDA.) The flags are read from the Python source with ``ast``, without importing it:
- every ``"--flag"`` string in an ``add_argument`` call of the files below;
- vLLM only: every field of the frontend argument classes, which ``BaseFrontendArgs.add_cli_args`` turns into
  ``--field-name`` in a loop (``vllm/entrypoints/openai/cli_args.py``).
Which of them are switches (take no value) and which of those can be turned off (``--no-<flag>``):
- ``action="store_true"`` / ``"store_false"``: a switch, not negatable;
- ``action=argparse.BooleanOptionalAction``: a switch with its ``--no-`` form;
- vLLM only: a flag added with ``**<group>_kwargs["<field>"]`` whose field is annotated ``bool`` in the engine
  argument classes, and a ``bool`` field of the frontend classes: ``get_kwargs`` makes each a
  ``BooleanOptionalAction`` ("Creates --no-<name> and --<name> flags", ``vllm/engine/arg_utils.py``).
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
    field_classes: tuple[str, ...] = ()  # classes whose fields are flags (vLLM's frontend arguments)
    bool_classes: tuple[str, ...] = ()  # classes whose bool fields become BooleanOptionalAction flags


SOURCES = {
    "vllm": FlagSource(
        "vllm",
        RUNTIMES / "vllm" / "vllm_flags.json",
        ("vllm/engine/arg_utils.py", "vllm/entrypoints/openai/cli_args.py"),
        ("BaseFrontendArgs", "FrontendArgs"),
        ("EngineArgs", "AsyncEngineArgs", "BaseFrontendArgs", "FrontendArgs"),
    ),
    "sglang": FlagSource("sglang", RUNTIMES / "sglang" / "sglang_flags.json", ("sglang/srt/server_args.py",)),
}


@dataclass
class Flags:
    names: set[str]
    switches: set[str]  # take no value
    negatable: set[str]  # switches with a --no- form


def _add_argument_flags(tree: ast.AST, bool_fields: set[str]) -> Flags:
    found = Flags(set(), set(), set())
    for node in ast.walk(tree):
        is_call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        if not (is_call and node.func.attr == "add_argument"):
            continue
        names = [str(a.value)[2:] for a in node.args if isinstance(a, ast.Constant) and str(a.value).startswith("--")]
        if not names:
            continue
        found.names |= set(names)
        action = next((keyword.value for keyword in node.keywords if keyword.arg == "action"), None)
        spread = [keyword.value for keyword in node.keywords if keyword.arg is None]
        optional = isinstance(action, ast.Attribute) and action.attr == "BooleanOptionalAction"
        from_bool_field = action is None and any(_kwargs_field(value) in bool_fields for value in spread)
        if isinstance(action, ast.Constant) and action.value in ("store_true", "store_false"):
            found.switches |= set(names)
        elif optional or from_bool_field:
            found.switches |= set(names)
            found.negatable |= set(names)
    return found


def _kwargs_field(node: ast.expr) -> str | None:
    """``model_kwargs["trust_remote_code"]`` (or ``{**cache_kwargs["enable_prefix_caching"], ...}``) -> the field."""
    if isinstance(node, ast.Dict):
        spread = [value for key, value in zip(node.keys, node.values, strict=True) if key is None]
        return next((field for value in spread if (field := _kwargs_field(value)) is not None), None)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return str(node.slice.value)
    return None


def _class_fields(tree: ast.AST, class_names: tuple[str, ...], *, bool_only: bool = False) -> set[str]:
    """Field names of the classes (``bool_only``: those annotated ``bool`` or ``bool | None``)."""
    fields = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name in class_names:
            for statement in node.body:
                if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                    name = statement.target.id
                    annotation = ast.unparse(statement.annotation).replace(" ", "")
                    if not name.startswith("_") and (not bool_only or annotation in ("bool", "bool|None")):
                        fields.add(name)
    return fields


def server_flags(source: FlagSource, wheel: Path) -> tuple[str, dict[str, list[str]]]:
    """The server's version (from the wheel's name) and its flags, switches and negatable switches, sorted."""
    version = wheel.name.split("-")[1]
    with zipfile.ZipFile(wheel) as archive:
        trees = [ast.parse(archive.read(file_name).decode()) for file_name in source.files]
    bool_fields = set().union(*(_class_fields(tree, source.bool_classes, bool_only=True) for tree in trees))
    flags = Flags(set(), set(), set())
    for tree in trees:
        found = _add_argument_flags(tree, bool_fields)
        frontend = {name.replace("_", "-") for name in _class_fields(tree, source.field_classes)}
        frontend_bool = {name.replace("_", "-") for name in _class_fields(tree, source.field_classes, bool_only=True)}
        flags.names |= found.names | frontend
        flags.switches |= found.switches | frontend_bool
        flags.negatable |= found.negatable | frontend_bool
    if not flags.names:
        raise SystemExit(f"no flags found in {wheel.name}: has the source moved?")
    return version, {
        "flags": sorted(flags.names),
        "switches": sorted(flags.switches),
        "negatable": sorted(flags.negatable),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runtime", choices=sorted(SOURCES))
    parser.add_argument("wheel", type=Path, help="the server's wheel, e.g. vllm-0.17.0-cp38-abi3-....whl")
    arguments = parser.parse_args()
    source = SOURCES[arguments.runtime]
    version, flags = server_flags(source, arguments.wheel)
    recorded = json.loads(source.output.read_text()) if source.output.exists() else {"versions": {}}
    recorded["server"] = source.server
    recorded["versions"][version] = {"source": f"{arguments.wheel.name}: {', '.join(source.files)}", **flags}
    source.output.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    counts = ", ".join(f"{len(names)} {kind}" for kind, names in flags.items())
    print(f"wrote {source.output}: {source.server} {version}, {counts}")


if __name__ == "__main__":
    main()
