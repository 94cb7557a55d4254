"""Shared test helpers: configs derived from the real cdk.json default, and one synth per call."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import yaml
from aws_cdk.assertions import Template

from app import new_app
from stacks import add_deployment_stacks
from tgi_sagemaker import ConfigError, ConfigProblem, add_compliance_checks, load_app
from tgi_sagemaker.compliance import advisory_notes, unacknowledged_findings
from tgi_sagemaker.config.source import CONTEXT_KEY

ROOT = Path(__file__).resolve().parents[1]
CFN_LINT_IGNORED = ["W3005"]  # CDK's explicit DependsOn next to an implicit one: listed CDK noise


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


def default_config() -> dict[str, Any]:
    """The deployment config in cdk.json, as `make synth` reads it."""
    return copy.deepcopy(cdk_json_context()[CONTEXT_KEY])


def shared_config() -> dict[str, Any]:
    """config/shared.yaml: three distills on one shared endpoint."""
    return yaml.safe_load((ROOT / "config" / "shared.yaml").read_text())


def config_with(deployment_changes: dict[str, Any] | None = None, **app_changes: Any) -> dict[str, Any]:
    """The default config with the first deployment's keys (dotted paths allowed) and top-level keys changed."""
    config = default_config()
    for dotted, value in (deployment_changes or {}).items():
        set_path(config["deployments"][0], dotted, value)
    config.update(app_changes)
    return config


def set_path(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        target = target.setdefault(key, {})
    target[last] = value


def problems_of(config: dict[str, Any]) -> list[ConfigProblem]:
    try:
        load_app(config)
    except ConfigError as error:
        return error.problems
    return []


@dataclass
class Synthesized:
    app: cdk.App
    templates: dict[str, dict[str, Any]]
    outdir: Path
    advisory_notes: list[str] = field(default_factory=list)
    """The library's advisory notes it left (``compliance.advisory_notes``)."""

    def template(self, stack_name: str | None = None) -> Template:
        return Template.from_json(self.raw(stack_name))

    def raw(self, stack_name: str | None = None) -> dict[str, Any]:
        if stack_name is None:
            (stack_name,) = self.templates
        return self.templates[stack_name]


def synthesize(config: dict[str, Any], outdir: Path) -> Synthesized:
    """Synthesize a config the way app.py does (cdk-nag packs included: a finding raises, and so does a warning
    other than the library's advisory ones, which ``Synthesized.advisory_notes`` holds)."""
    # The same context as `cdk synth` passes: cdk.json's feature flags, and path metadata (cfn-lint reads it to
    # recognise CDK templates).
    context = {key: value for key, value in cdk_json_context().items() if key != CONTEXT_KEY}
    app = new_app(outdir=str(outdir), context={**context, "aws:cdk:enable-path-metadata": True})
    add_deployment_stacks(app, load_app(config))
    stacks = [child for child in app.node.children if isinstance(child, cdk.Stack)]  # shared endpoints' too
    add_compliance_checks(app)
    assembly = app.synth()
    findings = unacknowledged_findings(outdir / "validation-report.json")  # warnings do not raise
    assert findings == [], findings
    templates = {s.stack_name: assembly.get_stack_by_name(s.stack_name).template for s in stacks}
    return Synthesized(app, templates, outdir, advisory_notes(outdir / "validation-report.json"))


def cfn_lint(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            "--format",
            "parseable",
            "--ignore-checks",
            *CFN_LINT_IGNORED,
            "--",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
    )


@dataclass
class CheckovScan:
    """checkov's verdict over some folders, one run per assembly (a folder holding templates)."""

    assemblies: list[Path]
    failed: list[str]  # "CKV_AWS_370 on AWS::SageMaker::Model.TgiModel... in <template>"
    problems: list[str]  # a run that did not scan what it was given, or did not run at all

    @property
    def clean(self) -> bool:
        return bool(self.assemblies) and not self.failed and not self.problems

    def __str__(self) -> str:
        return "\n".join([f"{len(self.assemblies)} assemblies scanned", *self.failed, *self.problems])


def checkov(folders: list[Path]) -> CheckovScan:
    """checkov from its own venv (``make install`` builds it), as ``make synth`` runs it: each assembly under
    ``folders`` in its own run (checkov 3.3.30 given several ``--directory`` options scans the first one once per
    option), and each run must have scanned every resource of its templates."""
    assemblies = sorted({template.parent for folder in folders for template in folder.rglob("*.template.json")})
    scan = CheckovScan(assemblies, [], [] if assemblies else [f"no templates under {folders}"])
    for assembly in assemblies:
        templates = sorted(assembly.glob("*.template.json"))
        args = [str(ROOT / ".venv-checkov" / "bin" / "checkov"), "--framework", "cloudformation", "--skip-download"]
        for template in templates:
            args += ["--file", str(template)]
        run = subprocess.run([*args, "--compact", "--quiet", "--output", "json"], capture_output=True, text=True)
        try:
            report = json.loads(run.stdout)
        except json.JSONDecodeError:
            scan.problems.append(
                f"{assembly}: checkov exited {run.returncode}: {run.stdout[-2000:]} {run.stderr[-2000:]}"
            )
            continue
        expected = sum(len(json.loads(template.read_text())["Resources"]) for template in templates)
        if report["summary"]["resource_count"] != expected:
            scan.problems.append(
                f"{assembly}: checkov scanned {report['summary']['resource_count']} resources of {expected}"
            )
        scan.failed += [
            f"{check['check_id']} on {check['resource']} in {check['file_abs_path']}"
            for check in report["results"]["failed_checks"]
        ]
        if run.returncode != 0 and not report["results"]["failed_checks"]:
            scan.problems.append(f"{assembly}: checkov exited {run.returncode}: {run.stderr[-2000:]}")
    return scan
