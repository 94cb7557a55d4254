"""``sglang``: the settings of the SGLang server, checked against the flag list of the image's SGLang version
(``runtimes/sglang/sglang_flags.json``, recorded from SGLang's source) so that a typo or a removed flag is a config
error, not a container that fails its health check after the start-up timeout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tgi_sagemaker.config.rules.runtime import check_server_flags
from tgi_sagemaker.config.spec import DeploymentSpec
from tgi_sagemaker.runtimes.runtime import ServingRuntime
from tgi_sagemaker.runtimes.sglang.image import SGLANG_FLAGS
from tgi_sagemaker.runtimes.sglang.runtime import MANAGED_FLAGS

AddProblem = Callable[[str, Any, str, str], None]


def check_sglang(spec: DeploymentSpec, runtime: ServingRuntime | None, add: AddProblem) -> None:
    version = runtime.image.version if runtime is not None else None
    check_server_flags("sglang", spec.sglang.flags, MANAGED_FLAGS, SGLANG_FLAGS, version, add)
