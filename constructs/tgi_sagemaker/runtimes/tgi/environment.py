"""The TGI container environment: what the SageMaker entrypoint and text-generation-launcher read.

Where the model is (``model_location_environment``: the weights decide) and what the settings become
(``settings_environment``: the config decides); ``Tgi`` (``runtime.py``) offers both through the runtime seam.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tgi_sagemaker.config.credentials import looks_like_credential
from tgi_sagemaker.runtimes.runtime import HubModel, ModelLocation

if TYPE_CHECKING:
    from tgi_sagemaker.catalog.models import CatalogModel
    from tgi_sagemaker.catalog.sizing import TokenLimits
    from tgi_sagemaker.config.spec import DeploymentSpec

AddProblem = Callable[[str, Any, str, str], None]

# Where the model is: a Hub repo id or a local directory, the Hub revision, and a Hub token (the DLC's entrypoint and
# huggingface_hub read these names).
HF_MODEL_ID = "HF_MODEL_ID"
HF_MODEL_REVISION = "HF_MODEL_REVISION"
HF_TOKEN = "HF_TOKEN"
MODEL_LOCATION_VARIABLES = frozenset({HF_MODEL_ID, HF_MODEL_REVISION, HF_TOKEN})
SM_NUM_GPUS = "SM_NUM_GPUS"  # the DLC's entrypoint passes it to the launcher as --num-shard

# Variables this library sets, and the field that sets each (also their launcher aliases).
MANAGED_VARIABLES = {
    HF_MODEL_ID: "model.id",
    "MODEL_ID": "model.id",
    HF_MODEL_REVISION: "model.revision",
    "REVISION": "model.revision",
    SM_NUM_GPUS: "num_gpus",
    "NUM_SHARD": "num_gpus",
    "MAX_INPUT_TOKENS": "tgi.max_input_tokens",
    "MAX_INPUT_LENGTH": "tgi.max_input_tokens",
    "MAX_TOTAL_TOKENS": "tgi.max_total_tokens",
    "MAX_BATCH_PREFILL_TOKENS": "tgi.max_batch_prefill_tokens",
    "MAX_BATCH_TOTAL_TOKENS": "tgi.max_batch_total_tokens",
    "MAX_CONCURRENT_REQUESTS": "tgi.max_concurrent_requests",
    "DTYPE": "tgi.dtype",
    "QUANTIZE": "tgi.quantize",
    "HF_MODEL_QUANTIZE": "tgi.quantize",
    "KV_CACHE_DTYPE": "tgi.kv_cache_dtype",
    "HF_MODEL_TRUST_REMOTE_CODE": "model.trust_remote_code",
    "TRUST_REMOTE_CODE": "model.trust_remote_code",
    "PORT": "(fixed by SageMaker at 8080)",
}
_SECRET_LIKE = re.compile(
    r"(^|_)(HF_TOKEN|HUB_TOKEN|API_TOKEN|SESSION_TOKEN|AUTHTOKEN|AUTH_TOKEN|SECRET|PASSWORD|API_KEY|ACCESS_KEY)(_|$)"
)
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_VARIABLE_BYTES = 1024
MAX_ENVIRONMENT_BYTES = 32 * 1024


def model_location_environment(location: ModelLocation) -> dict[str, str]:
    if not isinstance(location, HubModel):  # TGI loads a local directory given where a repo id would go
        return {HF_MODEL_ID: location.path}
    environment = {HF_MODEL_ID: location.repo_id}
    if location.revision is not None:
        environment[HF_MODEL_REVISION] = location.revision
    if location.token is not None:
        environment[HF_TOKEN] = location.token
    return environment


def settings_environment(
    spec: DeploymentSpec, *, num_gpus: int, limits: TokenLimits, catalog_model: CatalogModel | None
) -> dict[str, str]:
    tgi = spec.tgi
    dtype: str | None = tgi.dtype
    if dtype is None and tgi.quantize is None and catalog_model is not None:
        # fp8 checkpoints carry their own quantization config: DTYPE would force an upcast.
        dtype = catalog_model.native_dtype if catalog_model.native_dtype in ("bfloat16", "float16") else None
    environment = {
        SM_NUM_GPUS: str(num_gpus),
        "MAX_INPUT_TOKENS": str(limits.max_input_tokens),
        "MAX_TOTAL_TOKENS": str(limits.max_total_tokens),
        "MAX_BATCH_PREFILL_TOKENS": str(limits.max_batch_prefill_tokens),
        "MAX_CONCURRENT_REQUESTS": str(tgi.max_concurrent_requests),
    }
    optional = {
        "MAX_BATCH_TOTAL_TOKENS": tgi.max_batch_total_tokens,
        "DTYPE": dtype,
        "HF_MODEL_QUANTIZE": tgi.quantize,
        "KV_CACHE_DTYPE": tgi.kv_cache_dtype,
        "HF_MODEL_TRUST_REMOTE_CODE": "true" if spec.model.trust_remote_code else None,
    }
    environment.update({key: str(value) for key, value in optional.items() if value is not None})
    environment.update(tgi.extra_env)
    return environment


def check_extra_environment(extra: Mapping[str, str], add: AddProblem) -> None:
    for key in extra:
        path = f"tgi.extra_env.{key}"
        if not _VARIABLE_NAME.match(key):
            add(path, key, "not a valid environment variable name", "use letters, digits and '_' only")
        elif key.upper() in MANAGED_VARIABLES:
            add(path, extra[key], "this variable is managed by the library", f"set {MANAGED_VARIABLES[key.upper()]}")
        elif key.upper() == "ENDPOINT_SERVER_TIMEOUT":
            add(
                path,
                extra[key],
                "nothing in TGI reads ENDPOINT_SERVER_TIMEOUT (it does not extend start-up)",
                "remove it; set timeouts.container_startup_health_check_seconds instead",
            )
        elif _SECRET_LIKE.search(key.upper()) or looks_like_credential([key, extra[key]]):
            add(
                path,
                "***",
                "secrets must not be written into the template (nor the model's environment, which DescribeModel "
                "shows)",
                "remove it; put a Hub token in Secrets Manager and name it in weights.hf_token_secret",
            )


def check_environment_size(environment: Mapping[str, str], add: AddProblem) -> None:
    total = 0
    for key, value in environment.items():
        size = len(key.encode()) + len(value.encode())
        total += size
        if len(value.encode()) > MAX_VARIABLE_BYTES:
            add(f"tgi.extra_env.{key}", value[:40] + "...", "SageMaker limits a value to 1024 bytes", "shorten it")
    if total > MAX_ENVIRONMENT_BYTES:
        add("tgi.extra_env", f"{total} bytes", "SageMaker limits the environment to 32 KB", "remove variables")
