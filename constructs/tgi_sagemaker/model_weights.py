"""Where a TGI model's weights come from: the seam between the model construct and the weights source.

A weights source binds to a model: it contributes the container environment (HF_MODEL_ID, ...), optionally a
``ModelDataSource`` that SageMaker copies to /opt/ml/model, grants the execution role what it needs, and says
whether the container needs the internet (which rules out network isolation).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct


@dataclass(frozen=True)
class WeightsBinding:
    environment: dict[str, str]
    needs_internet: bool
    model_data_source: sagemaker.CfnModel.ModelDataSourceProperty | None = None


class ModelWeights(ABC):
    """A source of model weights for ``TgiModel``."""

    @abstractmethod
    def bind(self, scope: Construct, grantee: iam.IGrantable) -> WeightsBinding: ...


class HubWeights(ModelWeights):
    """The container downloads the weights from the Hugging Face Hub at start-up.

    :param repo_id: Hub repo id, e.g. ``deepseek-ai/DeepSeek-R1-Distill-Llama-8B``.
    :param revision: branch, tag or commit (HF_MODEL_REVISION). Default: the repo's default branch.
    :param token_secret: a secret whose string is a Hub token, for gated or private repos. Default: none.
        CloudFormation resolves it at deploy time (a dynamic reference): the token is never in the template,
        but SageMaker stores it in the model's environment, visible to whoever may DescribeModel.
    """

    def __init__(
        self, *, repo_id: str, revision: str | None = None, token_secret: secretsmanager.ISecret | None = None
    ) -> None:
        self.repo_id = repo_id
        self.revision = revision
        self.token_secret = token_secret

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> WeightsBinding:
        environment = {"HF_MODEL_ID": self.repo_id}
        if self.revision is not None:
            environment["HF_MODEL_REVISION"] = self.revision
        if self.token_secret is not None:
            environment["HF_TOKEN"] = self.token_secret.secret_value.unsafe_unwrap()
        return WeightsBinding(environment=environment, needs_internet=True)
