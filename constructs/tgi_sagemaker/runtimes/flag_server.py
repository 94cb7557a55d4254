"""What the vLLM and SGLang runtimes share: servers set by flags, each flag an environment variable of the
container's SageMaker entrypoint (``server_flags.py``).

Both take the model as a flag (a Hub repo with its revision and ``HF_TOKEN``, or SageMaker's model directory), bind
``0.0.0.0``, serve the model under its ``model.id``, and take a dtype, a KV-cache dtype, a reasoning parser and more
flags from their spec section. A runtime says only what differs: its variable prefix, its flag names, its R1
reasoning parser, its sizing flags and its stream formats.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from tgi_sagemaker.runtimes.runtime import HubModel, ModelLocation
from tgi_sagemaker.runtimes.server_flags import FlagList, FlagValue, flag_variable, flags_environment

if TYPE_CHECKING:
    from tgi_sagemaker.catalog.models import CatalogModel
    from tgi_sagemaker.catalog.sizing import TokenLimits
    from tgi_sagemaker.config.spec import DeploymentSpec
    from tgi_sagemaker.runtimes.container_image import ContainerImage

HF_TOKEN = "HF_TOKEN"
# Dtypes the server can be told as the catalog model's own; other checkpoints (fp8, ...) keep theirs.
NATIVE_DTYPES = ("bfloat16", "float16")


class FlagServerSection(Protocol):
    """The spec section of a flag-driven server (``vllm``, ``sglang``): the settings both servers have."""

    @property
    def dtype(self) -> str | None: ...
    @property
    def kv_cache_dtype(self) -> str | None: ...
    @property
    def reasoning_parser(self) -> str | None: ...
    @property
    def flags(self) -> Mapping[str, FlagValue]: ...


class FlagServer:
    """The model and settings environment of a server set by flags; mixed in before ``ServingRuntime``.

    A subclass sets the class attributes below and implements ``section`` and ``sizing_flags``; the runtime
    seam's ``gpus_per_copy_variable`` and ``model_variables`` follow from its prefix and flag names.
    """

    prefix: ClassVar[str]
    """The entrypoint's variable prefix, e.g. ``SM_VLLM_``."""
    model_flag: ClassVar[str]
    """The flag that names the model (a Hub repo or a directory)."""
    gpus_flag: ClassVar[str]
    """The flag that sets how many GPUs one copy shards over (tensor parallelism)."""
    r1_reasoning_parser: ClassVar[str]
    """The server's reasoning parser for DeepSeek-R1 and its distills: the default for catalog models."""
    flag_lists: ClassVar[Mapping[str, FlagList]]
    """The recorded flags of each server version: which switches have a ``--no-`` form."""
    gpus_per_copy_variable: ClassVar[str]
    model_variables: ClassVar[frozenset[str]]
    image: ContainerImage  # the subclass's dataclass field

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Set before ServingRuntime checks that a runtime has them (it comes after this class).
        cls.gpus_per_copy_variable = flag_variable(cls.prefix, cls.gpus_flag)
        cls.model_variables = frozenset(
            {flag_variable(cls.prefix, cls.model_flag), flag_variable(cls.prefix, "revision"), HF_TOKEN}
        )
        super().__init_subclass__(**kwargs)

    @staticmethod
    @abstractmethod
    def section(spec: DeploymentSpec) -> FlagServerSection:
        """The deployment's settings section of this server."""

    @staticmethod
    @abstractmethod
    def sizing_flags(spec: DeploymentSpec, *, limits: TokenLimits) -> dict[str, FlagValue | None]:
        """The flags that size the server beyond its GPUs: context length, memory share, batch (in this order)."""

    def model_environment(self, location: ModelLocation) -> dict[str, str]:
        if not isinstance(location, HubModel):
            return flags_environment(self.prefix, {self.model_flag: location.path})
        environment = flags_environment(self.prefix, {self.model_flag: location.repo_id, "revision": location.revision})
        if location.token is not None:
            environment[HF_TOKEN] = location.token  # huggingface_hub reads it
        return environment

    def settings_environment(
        self, spec: DeploymentSpec, *, num_gpus: int, limits: TokenLimits, catalog_model: CatalogModel | None
    ) -> dict[str, str]:
        section = self.section(spec)
        dtype = section.dtype
        if dtype is None and catalog_model is not None and catalog_model.native_dtype in NATIVE_DTYPES:
            dtype = catalog_model.native_dtype
        reasoning_parser = section.reasoning_parser or (self.r1_reasoning_parser if catalog_model is not None else None)
        owned: dict[str, FlagValue | None] = {
            "host": "0.0.0.0",  # every interface of the container: its port is reachable only through SageMaker
            "served-model-name": spec.model.id,
            self.gpus_flag: num_gpus,
            **self.sizing_flags(spec, limits=limits),
            "dtype": dtype,
            "kv-cache-dtype": section.kv_cache_dtype,
            "reasoning-parser": reasoning_parser,
            "trust-remote-code": True if spec.model.trust_remote_code else None,
        }
        recorded = self.flag_lists.get(self.image.version)
        negatable = recorded.negatable if recorded is not None else frozenset()
        return flags_environment(self.prefix, {**owned, **section.flags}, negatable=negatable)
