"""``vllm``: the settings of the vLLM server, checked against the flag list of the image's vLLM version
(``runtimes/vllm/vllm_flags.json``, recorded from vLLM's source) so that a typo or a removed flag is a config error,
not a container that fails its health check after the start-up timeout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tgi_sagemaker.config.rules.runtime import check_server_flags
from tgi_sagemaker.config.spec import DeploymentSpec
from tgi_sagemaker.runtimes.runtime import ServingRuntime
from tgi_sagemaker.runtimes.vllm.image import VLLM_FLAGS
from tgi_sagemaker.runtimes.vllm.runtime import MANAGED_FLAGS

AddProblem = Callable[[str, Any, str, str], None]


def check_vllm(spec: DeploymentSpec, runtime: ServingRuntime | None, add: AddProblem) -> None:
    version = runtime.image.version.split("-")[0] if runtime is not None else None
    check_server_flags("vllm", spec.vllm.flags, MANAGED_FLAGS, VLLM_FLAGS, version, add)
