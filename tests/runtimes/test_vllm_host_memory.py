"""vLLM 0.22.1+ images offload the KV cache to pinned host memory by default (half the host's RAM in every GPU
worker): kept for one single-GPU server alone on its instances, turned off wherever it would over-commit."""

from __future__ import annotations

import pytest

from helpers import config_with
from tgi_sagemaker.config.resolve import load_app

VLLM = {"runtime": "vllm", "instance_type": "ml.g5.12xlarge"}  # 4 GPUs, 192 GiB of host memory


def _lmcache(**changes: object) -> str | None:
    (deployment,) = load_app(config_with({**VLLM, **changes})).deployments
    return deployment.settings_environment.get("HF_ENABLE_LMCACHE")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"vllm.version": "0.17"}, None),  # its entrypoint has no optimization layer
        ({"vllm.version": "0.21"}, None),
        ({"vllm.version": "0.22"}, "0"),  # inference components (scale to zero): copies share an instance
        ({"vllm.version": "0.29", "scaling.mode": "instances", "num_gpus": 1}, None),  # one worker, alone
        ({"vllm.version": "0.29", "scaling.mode": "instances", "num_gpus": 4}, "0"),  # 4 workers x half the RAM
        (
            {
                "vllm.version": "0.29",
                "scaling.mode": "instances",
                "num_gpus": 1,
                "vllm.flags": {"data-parallel-size": 2},
            },
            "0",
        ),
        (
            {
                "vllm.version": "0.29",
                "scaling.mode": "instances",
                "num_gpus": 1,
                "vllm.flags": {"pipeline-parallel-size": 2},
            },
            "0",
        ),
    ],
)
def test_kv_offload_to_host_memory_is_kept_only_where_it_fits(changes: dict[str, object], expected: str | None) -> None:
    assert _lmcache(**changes) == expected
