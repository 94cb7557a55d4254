"""The pipeline spec: where the source is, and the environments it deploys in order (one config file each).

```yaml
pipeline:
  account: "111122223333"
  region: us-east-1
  connection_arn: arn:aws:codeconnections:us-east-1:111122223333:connection/<uuid>
  repository: my-org/tgi-sagemaker
  branch: main
  stages:
    - config: config/dev.yaml
    - config: config/prod.yaml
      approval: true
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, StringConstraints, ValidationError

from tgi_sagemaker.config.errors import ConfigError, ConfigProblem, problems_from_validation_error
from tgi_sagemaker.config.resolve import ResolvedApp, load_app
from tgi_sagemaker.config.source import parser_problems, read_config_file
from tgi_sagemaker.config.spec import _Spec

CONNECTION_ARN_PATTERN = (
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$"
)
REPOSITORY_PATTERN = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"


class StageSpec(_Spec):
    config: Annotated[str, StringConstraints(min_length=1)]
    """An environment's config file, relative to the repository root (the synth step's working directory)."""
    approval: bool = False
    """A manual approval before this stage deploys. Default: false."""
    smoke_test: bool = True
    """After deploying, invoke each endpoint once (waiting out a scale-from-zero wake-up). Default: true; only for
    environments in the pipeline's account (its role cannot invoke elsewhere)."""


class PipelineSpec(_Spec):
    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")] = "tgi-sagemaker"
    """CodePipeline name, and the pipeline stack's ``<name>-pipeline``. Default: tgi-sagemaker."""
    account: Annotated[str, StringConstraints(pattern=r"^\d{12}$")]
    """Where the pipeline runs (the tooling account)."""
    region: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")]
    connection_arn: Annotated[str, StringConstraints(pattern=CONNECTION_ARN_PATTERN)]
    """A CodeConnections (CodeStar) connection to the Git host, created and authorized in the console."""
    repository: Annotated[str, StringConstraints(pattern=REPOSITORY_PATTERN)]
    branch: Annotated[str, StringConstraints(min_length=1)] = "main"
    """The branch whose pushes run the pipeline. Default: main."""
    stages: Annotated[list[StageSpec], Field(min_length=1)]


class PipelineFile(_Spec):
    pipeline: PipelineSpec


@dataclass(frozen=True)
class ResolvedStage:
    spec: StageSpec
    name: str
    app: ResolvedApp

    @property
    def account(self) -> str:
        account = self.app.spec.environment.account
        assert account is not None  # checked by load_pipeline
        return account

    @property
    def region(self) -> str:
        region = self.app.spec.environment.region
        assert region is not None
        return region

    @property
    def production(self) -> bool:
        return self.app.spec.environment.production


@dataclass(frozen=True)
class ResolvedPipeline:
    spec: PipelineSpec
    stages: tuple[ResolvedStage, ...]

    @property
    def cross_account(self) -> bool:
        return any(stage.account != self.spec.account for stage in self.stages)


def load_pipeline(raw: Any, source: str, root: Path) -> ResolvedPipeline:
    """Parse the pipeline file and every stage's config; raise ``ConfigError`` with all problems found."""
    problems: list[ConfigProblem] = parser_problems(raw)  # keys given twice in the pipeline file
    try:
        spec = PipelineFile.model_validate(raw).pipeline
    except ValidationError as error:
        raise ConfigError(problems + problems_from_validation_error(error, raw, PipelineFile), source) from None
    stages: list[ResolvedStage] = []
    seen: dict[str, int] = {}
    for index, stage in enumerate(spec.stages):
        field = f"pipeline.stages[{index}]"
        try:
            raw = read_config_file(root / stage.config)
        except ConfigError as error:
            problems += _in_stage(field, stage.config, error.problems)
            continue
        environment = raw.get("environment") if isinstance(raw, dict) else None
        environment = environment if isinstance(environment, dict) else {}
        for key in ("name", "account", "region"):  # checked on the raw file: reported even if the rest is broken
            if environment.get(key) is None:
                problems.append(
                    ConfigProblem(
                        f"{field}.config -> environment.{key}",
                        None,
                        "a pipeline stage deploys to a named environment in a known account and region",
                        f"set environment.{key} in {stage.config}",
                    )
                )
        name, account = environment.get("name"), environment.get("account")
        if isinstance(name, str) and name in seen:
            problems.append(
                ConfigProblem(
                    f"{field}.config -> environment.name",
                    name,
                    f"stage {seen[name]} has the same environment name (stage and stack names come from it)",
                    f"give {stage.config} its own environment.name",
                )
            )
        if isinstance(name, str):
            seen.setdefault(name, index)
        if stage.smoke_test and account not in (None, spec.account):
            problems.append(
                ConfigProblem(
                    f"{field}.smoke_test",
                    True,
                    f"{stage.config} deploys to account {account}; the pipeline's role in "
                    f"{spec.account} cannot invoke an endpoint there",
                    "set smoke_test: false for this stage (and check it from that account)",
                )
            )
        try:
            app = load_app(raw, stage.config)
        except ConfigError as error:
            problems += _in_stage(field, stage.config, error.problems)
            continue
        stages.append(ResolvedStage(stage, str(name), app))
    if problems:
        raise ConfigError(problems, source)
    return ResolvedPipeline(spec, tuple(stages))


def _in_stage(field: str, config: str, problems: list[ConfigProblem]) -> list[ConfigProblem]:
    return [
        ConfigProblem(f"{field}.config -> {p.field}", p.value, p.problem, f"in {config}: {p.fix}") for p in problems
    ]
