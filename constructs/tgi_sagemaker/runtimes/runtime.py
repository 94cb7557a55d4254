"""The runtime seam: what the library needs to know about one serving container at one version.

A runtime knows its image (per region and version), the environment its settings become, how it is told where the
model is (the directory SageMaker fills from S3, or a Hub repository it downloads), the variable that sets the GPUs
a copy shards over, and the streams a client can read from it. The model construct, the execution role and the
weights sources know none of this: they ask the runtime. ``Tgi`` (``runtimes/tgi``) is the first implementation.

What is SageMaker's and the same for every container stays outside: the model directory's path (below), the log
groups SageMaker names after an endpoint or inference component (``execution_role.grant_sagemaker_log_group``).

Nothing here imports aws_cdk, so ``tgi-sagemaker invoke`` and ``bench`` read stream formats without jsii.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from tgi_sagemaker.catalog.models import CatalogModel
    from tgi_sagemaker.catalog.sizing import TokenLimits
    from tgi_sagemaker.config.spec import DeploymentSpec
    from tgi_sagemaker.runtimes.container_image import ContainerImage

# Where SageMaker puts a model's ModelDataSource before the container starts, whatever the container.
MODEL_DIRECTORY = "/opt/ml/model"

# CUDA 13 images need a newer NVIDIA driver than SageMaker's default hosting AMI has; the AMI with it, as
# aws/deep-learning-containers docs/vllm/deployment/sagemaker.md deploys them (cfn-lint's EndpointConfig schema
# lists the allowed InferenceAmiVersion values).
CUDA_13_INFERENCE_AMI = "al2-ami-sagemaker-inference-gpu-3-1"

StreamFormat = Literal["messages", "generate", "completions"]
"""A request and stream framing the command line's client speaks (``cli/client/payloads.py``): ``messages`` is
OpenAI chat completions, ``generate`` TGI's native API, ``completions`` OpenAI completions (a raw prompt, no chat
template)."""


# A Hub commit id: the one kind of revision nobody can move (a branch follows pushes, a tag can be re-pointed).
HUB_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def hub_revision_is_commit(revision: str | None) -> bool:
    """Whether ``revision`` pins the weights: a 40-hex commit id (None, a branch or a tag does not)."""
    return revision is not None and HUB_COMMIT.match(revision) is not None


def where_to_find_the_commit(repo_id: str, revision: str | None) -> str:
    """Where a user reads the commit id that ``revision`` (Default: the default branch, main) points at now."""
    ref = revision or "main"
    return (
        f"https://huggingface.co/{repo_id}/commits/{ref} lists the commits, newest first; "
        f"`curl -s https://huggingface.co/api/models/{repo_id}/revision/{ref}` answers with the commit it points "
        'at now, as "sha"'
    )


@dataclass(frozen=True)
class HubModel:
    """The container downloads the model from the Hugging Face Hub at start-up."""

    repo_id: str
    revision: str | None = None
    """Branch, tag or commit. None: the repo's default branch."""
    token: str | None = None
    """A Hub token as CloudFormation resolves it (a dynamic reference, never a literal). None: anonymous."""


@dataclass(frozen=True)
class ModelDirectory:
    """The model is already on disk: SageMaker copied the model's ModelDataSource here before the start."""

    path: str = MODEL_DIRECTORY


ModelLocation = HubModel | ModelDirectory


class ServingRuntime(ABC):
    """One serving container at one version, as SageMaker hosts it.

    An implementation sets the class attributes below and ``image``, and implements the two methods; the model
    construct (``ServingModel``), its execution role and the weights sources then work with it unchanged.
    """

    gpus_per_copy_variable: ClassVar[str]
    """The environment variable that sets how many GPUs one copy of the model shards over (TGI: SM_NUM_GPUS)."""
    model_variables: ClassVar[frozenset[str]]
    """Every variable ``model_environment`` may set: owned by the weights, refused in a model's environment."""
    stream_formats: ClassVar[tuple[StreamFormat, ...]]
    """The streams a client can request from this container, the one to use by default first."""
    image: ContainerImage
    """The container image of this version; binds to a stack as a URI, granting pull."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        missing = [name for name in _CLASS_ATTRIBUTES if not hasattr(cls, name)]
        if missing:
            raise TypeError(f"{cls.__name__} must set {', '.join(missing)} (see ServingRuntime)")

    @abstractmethod
    def model_environment(self, location: ModelLocation) -> dict[str, str]:
        """The variables that tell the container where the model is."""

    @abstractmethod
    def settings_environment(
        self, spec: DeploymentSpec, *, num_gpus: int, limits: TokenLimits, catalog_model: CatalogModel | None
    ) -> dict[str, str]:
        """The container environment a deployment's settings become (the weights' variables excepted)."""

    @property
    def inference_ami_version(self) -> str | None:
        """The production variant's InferenceAmiVersion this image needs; None: SageMaker's default AMI will do."""
        cuda = self.image.cuda_version
        return CUDA_13_INFERENCE_AMI if cuda is not None and cuda >= (13, 0) else None

    @property
    def container_name(self) -> str:
        """How people name the container, e.g. ``TGI`` (in descriptions and messages)."""
        return self.image.table.container


_CLASS_ATTRIBUTES = ("gpus_per_copy_variable", "model_variables", "stream_formats")
