"""The switches the library writes, run through both generations of the containers' entrypoints and a parser built
from the server version's recorded flags (server_entrypoints.py: the loops and the parser)."""

from __future__ import annotations

import pytest
from server_entrypoints import GENERATIONS, VERBATIM, ServerRefused, start

from helpers import config_with
from tgi_sagemaker.config.resolve import load_app
from tgi_sagemaker.runtimes.runtime import HubModel
from tgi_sagemaker.runtimes.server_flags import flags_environment
from tgi_sagemaker.runtimes.sglang.image import SGLANG_FLAGS
from tgi_sagemaker.runtimes.vllm.image import VLLM_FLAGS


@pytest.mark.parametrize("generation", GENERATIONS)
def test_vllm_starts_with_every_switch_as_set_on_either_entrypoint(generation: str) -> None:
    changes = {
        "runtime": "vllm",
        "model.trust_remote_code": True,
        "vllm.flags": {"enforce-eager": True, "enable-prefix-caching": False, "max-num-batched-tokens": 8192},
    }
    (deployment,) = load_app(config_with(changes)).deployments
    environment = {**deployment.runtime.model_environment(HubModel("a/b")), **deployment.settings_environment}
    server = start(VLLM_FLAGS["0.17.0"], GENERATIONS[generation], "SM_VLLM_", environment, vllm=True)
    assert server.model_tag is None  # no stray "true" read as the model to serve
    assert (server.trust_remote_code, server.enforce_eager, server.enable_prefix_caching) == (True, True, False)
    assert (server.model, server.max_num_batched_tokens, server.host) == ("a/b", "8192", "0.0.0.0")


@pytest.mark.parametrize("generation", GENERATIONS)
def test_sglang_starts_with_every_switch_as_set_on_either_entrypoint(generation: str) -> None:
    changes = {
        "runtime": "sglang",
        "model.trust_remote_code": True,
        "sglang.flags": {"enable-metrics": True, "disable-radix-cache": False, "chunked-prefill-size": 4096},
    }
    (deployment,) = load_app(config_with(changes)).deployments
    server = start(
        SGLANG_FLAGS["0.5.8"], GENERATIONS[generation], "SM_SGLANG_", deployment.settings_environment, vllm=False
    )
    assert (server.trust_remote_code, server.enable_metrics, server.disable_radix_cache) == (True, True, False)
    assert server.chunked_prefill_size == "4096"


def test_the_old_encoding_is_refused_or_misread_by_the_verbatim_entrypoint() -> None:
    """Why switches are written as empty values: "true"/"false" words reach the server on the default images."""
    words = {"SM_VLLM_TRUST_REMOTE_CODE": "true", "SM_VLLM_ENFORCE_EAGER": "true"}
    with pytest.raises(ServerRefused, match="unrecognized arguments: true"):
        start(VLLM_FLAGS["0.17.0"], VERBATIM, "SM_VLLM_", words, vllm=True)
    turned_on = start(VLLM_FLAGS["0.17.0"], VERBATIM, "SM_VLLM_", {"SM_VLLM_ENFORCE_EAGER": "false"}, vllm=True)
    assert (turned_on.enforce_eager, turned_on.model_tag) == (True, "false")  # "false" switched it on
    written = flags_environment(
        "SM_VLLM_",
        {"enforce-eager": True, "enable-prefix-caching": False},
        negatable=frozenset({"enable-prefix-caching"}),
    )
    assert written == {"SM_VLLM_ENFORCE_EAGER": "", "SM_VLLM_NO_ENABLE_PREFIX_CACHING": ""}
