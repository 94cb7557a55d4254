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

from tgi_sagemaker.runtimes.flag_server import FlagServer
from tgi_sagemaker.runtimes.runtime import ServingRuntime, StreamFormat
from tgi_sagemaker.runtimes.server_flags import FlagValue
from tgi_sagemaker.runtimes.vllm.image import VLLM_FLAGS, VllmImage, default_vllm_version

if TYPE_CHECKING:
    from tgi_sagemaker.catalog.sizing import TokenLimits
    from tgi_sagemaker.config.spec import DeploymentSpec, VllmSpec

PREFIX = "SM_VLLM_"
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
class Vllm(FlagServer, ServingRuntime):
    """vLLM at one version, e.g. ``Vllm.of("0.17")``.

    :param image: the vLLM image. Default: the pinned default version (``vllm_images.json``).
    """

    prefix = PREFIX
    model_flag = "model"
    flag_lists = VLLM_FLAGS
    gpus_flag = "tensor-parallel-size"
    r1_reasoning_parser = R1_REASONING_PARSER
    # SageMaker's /invocations takes either: vLLM picks chat by "messages", completions by "prompt".
    stream_formats: ClassVar[tuple[StreamFormat, ...]] = ("messages", "completions")
    image: VllmImage = field(default_factory=lambda: VllmImage(default_vllm_version()))

    @classmethod
    def of(cls, version: str) -> Vllm:
        """A full version (``0.17.0``) or a minor alias (``0.17``, its newest patch)."""
        return cls(image=VllmImage.of(version))

    @staticmethod
    def section(spec: DeploymentSpec) -> VllmSpec:
        return spec.vllm

    @staticmethod
    def sizing_flags(spec: DeploymentSpec, *, limits: TokenLimits) -> dict[str, FlagValue | None]:
        vllm = spec.vllm
        return {
            "max-model-len": limits.max_total_tokens,
            "gpu-memory-utilization": vllm.gpu_memory_utilization,
            "max-num-seqs": vllm.max_num_seqs,
        }
