"""The README's promises: the two commands first, and a composition example that synthesizes as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from helpers import ROOT
from tgi_sagemaker.compliance import unacknowledged_findings

README = (ROOT / "README.md").read_text()


def test_first_lines_are_the_two_setup_commands() -> None:
    first_block = README.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert [line.split("#")[0].strip() for line in first_block] == ["make synth", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_composition_example_synthesizes(tmp_path: Path) -> None:
    section = README.split("## Compose the constructs in your own CDK app", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]
    assert code.count("cdk.App()") == 1
    code = code.replace("cdk.App()", f"cdk.App(outdir={str(tmp_path)!r})")  # the jsii process ignores CDK_OUTDIR now
    namespace: dict = {}  # type: ignore[type-arg]
    exec(compile(code, "README.md", "exec"), namespace)
    assert (tmp_path / "PlatformLlm.template.json").exists()
    assert unacknowledged_findings(tmp_path / "validation-report.json") == []


def test_every_documented_command_line_parses() -> None:
    from tgi_sagemaker.cli.command_line import build_parser

    commands = re.findall(r"^(?:\.venv/bin/)?(tgi-sagemaker .*?)$", README.replace("\\\n", " "), re.M)
    assert len(commands) >= 5
    for command in commands:
        words = shlex.split(command.replace("<", "").replace(">", ""), comments=True)
        args = build_parser().parse_args(words[1:])  # argparse exits (SystemExit) on an unknown option
        assert args.command in ("invoke", "bench", "plan", "catalog", "check-findings", "report")


# What a fresh shell has: the set-up commands' entry points, the AWS CLI, and what `make synth` put under .venv/bin.
FRESH_SHELL_COMMANDS = ("make", "npx", "aws")


def test_every_shell_command_works_from_a_fresh_shell() -> None:
    """No README command relies on an activated venv (a bare ``tgi-sagemaker``, ``python`` or ``cdk``)."""
    needing_a_venv = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for command in block.replace("\\\n", " ").splitlines():
            words = [word for word in shlex.split(command, comments=True) if not re.match(r"^[A-Z_]+=", word)]
            if words and words[0] not in FRESH_SHELL_COMMANDS and not words[0].startswith(".venv/bin/"):
                needing_a_venv.append(command)
    assert needing_a_venv == []
