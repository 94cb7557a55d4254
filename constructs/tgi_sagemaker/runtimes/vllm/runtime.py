"""vLLM behind the runtime seam: the Hugging Face vLLM container as SageMaker hosts it.

Its SageMaker entrypoint (aws/deep-learning-containers ``scripts/docker/huggingface/vllm/sagemaker_entrypoint.sh``)
passes ``--port 8080`` and turns every ``SM_VLLM_<FLAG>`` variable into ``--<flag>`` (``server_flags.py``). It passes
no ``--host``: vLLM then binds every interface, and the environment names ``0.0.0.0`` all the same, as Hugging Face's
SageMaker examples do, so the binding does not rest on a default. vLLM (``entrypoints/sagemaker/api_router.py``)
serves SageMaker's ``/ping``, and ``/invocations`` as OpenAI chat completions (a body with ``messages``) or
completions (``prompt``).

From 0.22.1 the images also source ``hf_optimizations.sh`` (``scripts/docker/huggingface/vllm/``, since bffabfde),
which turns on LMCache's CPU KV-cache offload unless ``HF_ENABLE_LMCACHE=0``: a pool of pinned host memory of half
the instance's RAM (``/proc/meminfo`` sees the whole host) in EVERY GPU worker. Two workers (tensor parallel) or
two servers on one instance (inference components) then ask for all of it or more, whatever SageMaker reserved for
each. The library keeps it only where it fits by construction, one single-GPU server on its own instances, and
turns it off elsewhere (``lmcache_environment``).
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
    from tgi_sagemaker.catalog.models import CatalogModel
    from tgi_sagemaker.catalog.sizing import TokenLimits
    from tgi_sagemaker.config.spec import DeploymentSpec, VllmSpec

PREFIX = "SM_VLLM_"
HF_ENABLE_LMCACHE = "HF_ENABLE_LMCACHE"
FIRST_HF_OPTIMIZATIONS_VERSION = (0, 22)  # 0.22.1, the first image with hf_optimizations.sh
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

    def settings_environment(
        self, spec: DeploymentSpec, *, num_gpus: int, limits: TokenLimits, catalog_model: CatalogModel | None
    ) -> dict[str, str]:
        environment = super().settings_environment(spec, num_gpus=num_gpus, limits=limits, catalog_model=catalog_model)
        return environment | lmcache_environment(self.image.version, spec, num_gpus=num_gpus)

    @staticmethod
    def sizing_flags(spec: DeploymentSpec, *, limits: TokenLimits) -> dict[str, FlagValue | None]:
        vllm = spec.vllm
        return {
            "max-model-len": limits.max_total_tokens,
            "gpu-memory-utilization": vllm.gpu_memory_utilization,
            "max-num-seqs": vllm.max_num_seqs,
        }


def lmcache_environment(version: str, spec: DeploymentSpec, *, num_gpus: int) -> dict[str, str]:
    """``HF_ENABLE_LMCACHE=0`` where an image that offloads by default would over-commit host memory: a server of
    several GPU workers (tensor, pipeline or data parallel), or one of several servers an instance may hold
    (inference components)."""
    has_optimizations = tuple(int(part) for part in version.split(".")[:2]) >= FIRST_HF_OPTIMIZATIONS_VERSION
    alone_on_its_instances = spec.scaling.mode == "instances" and spec.endpoint is None
    if has_optimizations and not (alone_on_its_instances and gpu_workers(spec, num_gpus) == 1):
        return {HF_ENABLE_LMCACHE: "0"}
    return {}


def gpu_workers(spec: DeploymentSpec, num_gpus: int) -> int:
    """The GPU worker processes of one server: tensor parallel x pipeline and data parallel sizes (``vllm.flags``)."""
    workers = num_gpus
    for flag in ("pipeline-parallel-size", "data-parallel-size"):
        size = spec.vllm.flags.get(flag)
        if isinstance(size, int) and not isinstance(size, bool) and size > 1:
            workers *= size
    return workers
