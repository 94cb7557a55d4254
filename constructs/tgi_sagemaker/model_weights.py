"""Where a model's weights come from: the seam between the model construct and the weights source.

A weights source binds to a model: it says where the container finds the model (a Hub repository, or the directory
SageMaker fills from an optional ``ModelDataSource``), grants the execution role what it needs, and says whether the
container needs the internet (which rules out network isolation). The model's runtime turns the location into its
own variables (``ServingRuntime.model_environment``): a weights source works with every runtime.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from tgi_sagemaker.runtimes.runtime import (
    HubModel,
    ModelDirectory,
    ModelLocation,
    hub_revision_is_commit,
    where_to_find_the_commit,
)

UNPINNED_HUB_REVISION_WARNING = "tgi-sagemaker:unpinnedHubRevision"
"""The id of the synth warning a ``HubWeights`` without a commit gives; ``cdk.Annotations.of(model)
.acknowledge_warning(UNPINNED_HUB_REVISION_WARNING, reason)`` accepts it for one model."""


@dataclass(frozen=True)
class WeightsBinding:
    location: ModelLocation
    """Where the container finds the model."""
    needs_internet: bool
    model_data_source: sagemaker.CfnModel.ModelDataSourceProperty | None = None
    s3_read: tuple[s3.IBucket, str] | None = None
    """The bucket and key pattern SageMaker reads the weights from (through the model's VPC, if it has one)."""


class ModelWeights(ABC):
    """A source of model weights for a ``ServingModel`` (``TgiModel``)."""

    @abstractmethod
    def bind(self, scope: Construct, grantee: iam.IGrantable) -> WeightsBinding: ...


class HubWeights(ModelWeights):
    """The container downloads the weights from the Hugging Face Hub at start-up.

    :param repo_id: Hub repo id, e.g. ``deepseek-ai/DeepSeek-R1-Distill-Llama-8B``.
    :param revision: branch, tag or commit. Default: the repo's default branch. Anything but a 40-hex commit is
        resolved again at every instance start (scale-out, scale from zero, replacement), so one endpoint can serve
        two model versions after a push to the repo: synthesis warns (``UNPINNED_HUB_REVISION_WARNING``).
    :param token_secret: a secret whose string is a Hub token, for gated or private repos. Default: none.
        CloudFormation resolves it at deploy time (a dynamic reference): the token is never in the template,
        but SageMaker stores it in the model's environment (TGI: HF_TOKEN), readable by whoever may DescribeModel
        and in the console. Needs ``expose_token_in_model_environment=True``; ``S3PrefixWeights`` filled by
        ``HubWeightsCopy`` keep the token away from the model.
    :param expose_token_in_model_environment: accept that exposure. Default: False (a token is refused).
    """

    def __init__(
        self,
        *,
        repo_id: str,
        revision: str | None = None,
        token_secret: secretsmanager.ISecret | None = None,
        expose_token_in_model_environment: bool = False,
    ) -> None:
        if token_secret is not None and not expose_token_in_model_environment:
            raise ValueError(
                "HubWeights: token_secret would put the Hub token into the SageMaker model's environment, "
                "readable by DescribeModel callers; copy gated weights to S3 with HubWeightsCopy instead, or pass "
                "expose_token_in_model_environment=True"
            )
        self.repo_id = repo_id
        self.revision = revision
        self.token_secret = token_secret

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> WeightsBinding:
        token = self.token_secret.secret_value.unsafe_unwrap() if self.token_secret is not None else None
        if not self._pinned():
            cdk.Annotations.of(scope).add_warning_v2(UNPINNED_HUB_REVISION_WARNING, self._unpinned_warning())
        return WeightsBinding(location=HubModel(self.repo_id, self.revision, token), needs_internet=True)

    def _pinned(self) -> bool:
        # A token (a parameter, say) is checked by whoever resolves it.
        revision = self.revision
        return (revision is not None and cdk.Token.is_unresolved(revision)) or hub_revision_is_commit(revision)

    def _unpinned_warning(self) -> str:
        what = (
            "no revision (the repo's default branch)"
            if self.revision is None
            else f"revision {self.revision!r}, a branch or a tag, which the repo's owner can move"
        )
        return (
            f"HubWeights {self.repo_id} with {what}: the container resolves it at every instance start (scale-out, "
            "scale from zero, instance replacement), so after a push to the repo one endpoint can serve two model "
            "versions at once, and nothing says so. Fix: pin revision (config: model.revision) to a 40-hex commit ("
            f"{where_to_find_the_commit(self.repo_id, self.revision)}), or copy the weights to S3 once per deploy "
            "(HubWeightsCopy; config: weights.source 's3')"
        )


class S3PrefixWeights(ModelWeights):
    """Weights under an S3 prefix, copied by SageMaker to /opt/ml/model before the container starts.

    The serving containers cannot read an ``s3://`` model (TGI's HF_MODEL_ID refuses one): the prefix becomes an
    uncompressed ``ModelDataSource`` (S3Prefix, CompressionType None, URI ending in ``/``) and the runtime is told
    the model is in that directory. The container needs no network at all, so the model runs with network isolation.

    :param bucket: the bucket holding the weights.
    :param s3_uri: ``s3://bucket/prefix/`` (may be a token, e.g. ``HubWeightsCopy.s3_uri``).
    :param read_prefix: key prefix the execution role may read, e.g. ``models/deepseek-ai/DeepSeek-R1/``.
    """

    def __init__(self, *, bucket: s3.IBucket, s3_uri: str, read_prefix: str) -> None:
        if not cdk.Token.is_unresolved(s3_uri) and not (s3_uri.startswith("s3://") and s3_uri.endswith("/")):
            raise ValueError(f"S3PrefixWeights: s3_uri {s3_uri!r} must look like 's3://bucket/prefix/' (ending in '/')")
        self.bucket = bucket
        self.s3_uri = s3_uri
        self.read_prefix = read_prefix

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> WeightsBinding:
        # Exactly what SageMaker needs to copy an S3Prefix: list the prefix, get its objects.
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[self.bucket.arn_for_objects(f"{self.read_prefix}*")]
            )
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[self.bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{self.read_prefix}*"]}},
            )
        )
        source = sagemaker.CfnModel.ModelDataSourceProperty(
            s3_data_source=sagemaker.CfnModel.S3DataSourceProperty(
                s3_uri=self.s3_uri, s3_data_type="S3Prefix", compression_type="None"
            )
        )
        return WeightsBinding(
            location=ModelDirectory(),
            needs_internet=False,
            model_data_source=source,
            s3_read=(self.bucket, f"{self.read_prefix}*"),
        )
