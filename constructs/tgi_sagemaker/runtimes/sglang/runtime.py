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

from tgi_sagemaker.runtimes.runtime import HubModel, ModelLocation, ServingRuntime, StreamFormat
from tgi_sagemaker.runtimes.server_flags import FlagValue, flag_variable, flags_environment
from tgi_sagemaker.runtimes.sglang.image import SglangImage, default_sglang_version

if TYPE_CHECKING:
    from tgi_sagemaker.catalog.models import CatalogModel
    from tgi_sagemaker.catalog.sizing import TokenLimits
    from tgi_sagemaker.config.spec import DeploymentSpec

PREFIX = "SM_SGLANG_"
HF_TOKEN = "HF_TOKEN"
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
class Sglang(ServingRuntime):
    """SGLang at one version, e.g. ``Sglang.of("0.5")``.

    :param image: the SGLang image. Default: the pinned default version (``sglang_images.json``).
    """

    gpus_per_copy_variable = flag_variable(PREFIX, "tp-size")
    model_variables = frozenset({flag_variable(PREFIX, "model-path"), flag_variable(PREFIX, "revision"), HF_TOKEN})
    # SGLang 0.5.8's /invocations serves chat completions only (its /v1/completions is not reachable through it).
    stream_formats: ClassVar[tuple[StreamFormat, ...]] = ("messages",)
    image: SglangImage = field(default_factory=lambda: SglangImage(default_sglang_version()))

    @classmethod
    def of(cls, version: str) -> Sglang:
        """A full version (``0.5.8``) or a minor alias (``0.5``, its newest patch)."""
        return cls(image=SglangImage.of(version))

    def model_environment(self, location: ModelLocation) -> dict[str, str]:
        if not isinstance(location, HubModel):
            return flags_environment(PREFIX, {"model-path": location.path})
        environment = flags_environment(PREFIX, {"model-path": location.repo_id, "revision": location.revision})
        if location.token is not None:
            environment[HF_TOKEN] = location.token  # huggingface_hub reads it
        return environment

    def settings_environment(
        self, spec: DeploymentSpec, *, num_gpus: int, limits: TokenLimits, catalog_model: CatalogModel | None
    ) -> dict[str, str]:
        sglang = spec.sglang
        dtype: str | None = sglang.dtype
        if dtype is None and catalog_model is not None and catalog_model.native_dtype in ("bfloat16", "float16"):
            dtype = catalog_model.native_dtype
        reasoning_parser = sglang.reasoning_parser or (R1_REASONING_PARSER if catalog_model is not None else None)
        owned: dict[str, FlagValue | None] = {
            "host": "0.0.0.0",  # every interface of the container: its port is reachable only through SageMaker
            "served-model-name": spec.model.id,
            "tp-size": num_gpus,
            "context-length": limits.max_total_tokens,
            "mem-fraction-static": sglang.mem_fraction_static,
            "max-running-requests": sglang.max_running_requests,
            "dtype": dtype,
            "kv-cache-dtype": sglang.kv_cache_dtype,
            "reasoning-parser": reasoning_parser,
            "trust-remote-code": True if spec.model.trust_remote_code else None,
        }
        return flags_environment(PREFIX, {**owned, **sglang.flags})
