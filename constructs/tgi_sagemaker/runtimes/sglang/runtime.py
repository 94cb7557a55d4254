"""SGLang behind the runtime seam: the Hugging Face SGLang container as SageMaker hosts it.

AWS's SGLang SageMaker entrypoint (aws/deep-learning-containers ``scripts/docker/sglang/sagemaker_entrypoint.sh``)
turns every ``SM_SGLANG_<FLAG>`` variable into ``--<flag>`` (``server_flags.py``) and adds ``--port 8080``,
``--host 0.0.0.0`` and ``--model-path /opt/ml/model`` where they are not set. The build source of Hugging Face's
``huggingface-sglang`` image is not in that repository, so the environment names the host and the model path itself
rather than rely on those defaults: SGLang's own default host, 127.0.0.1, would fail SageMaker's health check.
SGLang 0.5.8 serves SageMaker's ``/ping`` and ``/invocations`` (as OpenAI chat completions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from tgi_sagemaker.runtimes.flag_server import FlagServer
from tgi_sagemaker.runtimes.runtime import ServingRuntime, StreamFormat
from tgi_sagemaker.runtimes.server_flags import FlagValue
from tgi_sagemaker.runtimes.sglang.image import SGLANG_FLAGS, SglangImage, default_sglang_version

if TYPE_CHECKING:
    from tgi_sagemaker.catalog.sizing import TokenLimits
    from tgi_sagemaker.config.spec import DeploymentSpec, SglangSpec

PREFIX = "SM_SGLANG_"
# The parser sglang/srt/parser/reasoning_parser.py registers for DeepSeek-R1: thinking in delta.reasoning_content.
R1_REASONING_PARSER = "deepseek-r1"

MANAGED_FLAGS: Mapping[str, str] = {
    "model-path": "model.id / weights.source",
    "revision": "model.revision",
    "host": "(bound to 0.0.0.0 for SageMaker)",
    "port": "(fixed by SageMaker at 8080)",
    "tp-size": "num_gpus",
    "context-length": "sglang.context_length",
    "mem-fraction-static": "sglang.mem_fraction_static",
    "max-running-requests": "sglang.max_running_requests",
    "dtype": "sglang.dtype",
    "kv-cache-dtype": "sglang.kv_cache_dtype",
    "reasoning-parser": "sglang.reasoning_parser",
    "served-model-name": "model.id",
    "trust-remote-code": "model.trust_remote_code",
}
"""Flags the library sets, and the field that sets each: refused in ``sglang.flags``."""


@dataclass(frozen=True)
class Sglang(FlagServer, ServingRuntime):
    """SGLang at one version, e.g. ``Sglang.of("0.5")``.

    :param image: the SGLang image. Default: the pinned default version (``sglang_images.json``).
    """

    prefix = PREFIX
    model_flag = "model-path"
    flag_lists = SGLANG_FLAGS
    gpus_flag = "tp-size"
    r1_reasoning_parser = R1_REASONING_PARSER
    # SGLang 0.5.8's /invocations serves chat completions only (its /v1/completions is not reachable through it).
    stream_formats: ClassVar[tuple[StreamFormat, ...]] = ("messages",)
    image: SglangImage = field(default_factory=lambda: SglangImage(default_sglang_version()))

    @classmethod
    def of(cls, version: str) -> Sglang:
        """A full version (``0.5.8``) or a minor alias (``0.5``, its newest patch)."""
        return cls(image=SglangImage.of(version))

    @staticmethod
    def section(spec: DeploymentSpec) -> SglangSpec:
        return spec.sglang

    @staticmethod
    def sizing_flags(spec: DeploymentSpec, *, limits: TokenLimits) -> dict[str, FlagValue | None]:
        sglang = spec.sglang
        return {
            "context-length": limits.max_total_tokens,
            "mem-fraction-static": sglang.mem_fraction_static,
            "max-running-requests": sglang.max_running_requests,
        }
