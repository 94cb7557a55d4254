"""vLLM behind the runtime seam: the Hugging Face vLLM container as SageMaker hosts it.

Its SageMaker entrypoint (aws/deep-learning-containers ``scripts/docker/huggingface/vllm/sagemaker_entrypoint.sh``)
passes ``--port 8080`` and turns every ``SM_VLLM_<FLAG>`` variable into ``--<flag>`` (``server_flags.py``). It passes
no ``--host``: vLLM then binds every interface, and the environment names ``0.0.0.0`` all the same, as Hugging Face's
SageMaker examples do, so the binding does not rest on a default. vLLM (``entrypoints/sagemaker/api_router.py``)
serves SageMaker's ``/ping``, and ``/invocations`` as OpenAI chat completions (a body with ``messages``) or
completions (``prompt``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from tgi_sagemaker.runtimes.runtime import HubModel, ModelLocation, ServingRuntime, StreamFormat
from tgi_sagemaker.runtimes.server_flags import FlagValue, flag_variable, flags_environment
from tgi_sagemaker.runtimes.vllm.image import VllmImage, default_vllm_version

if TYPE_CHECKING:
    from tgi_sagemaker.catalog.models import CatalogModel
    from tgi_sagemaker.catalog.sizing import TokenLimits
    from tgi_sagemaker.config.spec import DeploymentSpec

PREFIX = "SM_VLLM_"
HF_TOKEN = "HF_TOKEN"
# The parser vllm/reasoning registers for DeepSeek-R1 and its distills: the thinking goes to delta.reasoning.
R1_REASONING_PARSER = "deepseek_r1"

MANAGED_FLAGS: Mapping[str, str] = {
    "model": "model.id / weights.source",
    "revision": "model.revision",
    "host": "(bound to 0.0.0.0 for SageMaker)",
    "port": "(fixed by SageMaker at 8080)",
    "middleware": "(set by the container for SageMaker's routes)",
    "tensor-parallel-size": "num_gpus",
    "max-model-len": "vllm.max_model_len",
    "gpu-memory-utilization": "vllm.gpu_memory_utilization",
    "max-num-seqs": "vllm.max_num_seqs",
    "dtype": "vllm.dtype",
    "kv-cache-dtype": "vllm.kv_cache_dtype",
    "reasoning-parser": "vllm.reasoning_parser",
    "served-model-name": "model.id",
    "trust-remote-code": "model.trust_remote_code",
}
"""Flags the library sets, and the field that sets each: refused in ``vllm.flags``."""


@dataclass(frozen=True)
class Vllm(ServingRuntime):
    """vLLM at one version, e.g. ``Vllm.of("0.17")``.

    :param image: the vLLM image. Default: the pinned default version (``vllm_images.json``).
    """

    gpus_per_copy_variable = flag_variable(PREFIX, "tensor-parallel-size")
    model_variables = frozenset({flag_variable(PREFIX, "model"), flag_variable(PREFIX, "revision"), HF_TOKEN})
    # SageMaker's /invocations takes either: vLLM picks chat by "messages", completions by "prompt".
    stream_formats: ClassVar[tuple[StreamFormat, ...]] = ("messages", "completions")
    image: VllmImage = field(default_factory=lambda: VllmImage(default_vllm_version()))

    @classmethod
    def of(cls, version: str) -> Vllm:
        """A full version (``0.17.0``) or a minor alias (``0.17``, its newest patch)."""
        return cls(image=VllmImage.of(version))

    def model_environment(self, location: ModelLocation) -> dict[str, str]:
        if not isinstance(location, HubModel):
            return flags_environment(PREFIX, {"model": location.path})
        environment = flags_environment(PREFIX, {"model": location.repo_id, "revision": location.revision})
        if location.token is not None:
            environment[HF_TOKEN] = location.token  # huggingface_hub reads it
        return environment

    def settings_environment(
        self, spec: DeploymentSpec, *, num_gpus: int, limits: TokenLimits, catalog_model: CatalogModel | None
    ) -> dict[str, str]:
        vllm = spec.vllm
        dtype: str | None = vllm.dtype
        if dtype is None and catalog_model is not None and catalog_model.native_dtype in ("bfloat16", "float16"):
            dtype = catalog_model.native_dtype
        reasoning_parser = vllm.reasoning_parser or (R1_REASONING_PARSER if catalog_model is not None else None)
        owned: dict[str, FlagValue | None] = {
            "host": "0.0.0.0",
            "served-model-name": spec.model.id,
            "tensor-parallel-size": num_gpus,
            "max-model-len": limits.max_total_tokens,
            "gpu-memory-utilization": vllm.gpu_memory_utilization,
            "max-num-seqs": vllm.max_num_seqs,
            "dtype": dtype,
            "kv-cache-dtype": vllm.kv_cache_dtype,
            "reasoning-parser": reasoning_parser,
            "trust-remote-code": True if spec.model.trust_remote_code else None,
        }
        return flags_environment(PREFIX, {**owned, **vllm.flags})
