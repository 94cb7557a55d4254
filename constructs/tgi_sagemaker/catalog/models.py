"""The DeepSeek-R1 family as TGI on SageMaker sees it.

Sizes are the FACTS.md table (estimates from parameter counts); attention geometry is from each repo's
config.json (it decides how many GPUs a model can be sharded over and how much KV cache a token takes).
``blog_instances`` is the instance shortlist the AWS blog post benchmarked; ``recommended_instance`` is what
a deployment gets when it names the model but no instance type.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

GB = 10**9


@dataclass(frozen=True)
class KvGeometry:
    """Attention shape: how TGI can shard the model and what one cached token costs."""

    layers: int
    attention_heads: int
    kv_heads: int
    head_dim: int

    def kv_cache_bytes_per_token(self, bytes_per_element: float) -> int:
        # keys and values, every layer, every KV head
        return int(2 * self.layers * self.kv_heads * self.head_dim * bytes_per_element)

    def can_shard(self, num_gpus: int) -> bool:
        # TGI splits attention heads and KV heads evenly across shards.
        return self.attention_heads % num_gpus == 0 and self.kv_heads % num_gpus == 0


@dataclass(frozen=True)
class CatalogModel:
    repo_id: str
    base_model: str
    parameters_billion: float
    native_dtype: str  # "bfloat16" or "fp8" (checkpoint dtype)
    weights_gb: float
    weight_files: int
    context_length: int
    recommended_instance: str
    blog_instances: tuple[str, ...]
    attention: KvGeometry | None  # None: no KV-cache estimate (multi-head latent attention)
    # TGI's attention backend for it on the GPUs here (compute capability >= 8): flashinfer where the head size is 64,
    # 128 or 256, else flashdecoding (launcher resolve_attention). DeepSeek-V3's config gives 7168 / 128 = 56.
    tgi_attention: str = "flashinfer"

    @property
    def weights_bytes(self) -> int:
        return int(self.weights_gb * GB)

    @property
    def short_name(self) -> str:
        return self.repo_id.split("/", 1)[1]


_DISTILL_CONTEXT = 131072
_R1 = CatalogModel(
    "deepseek-ai/DeepSeek-R1",
    "DeepSeek-V3 (MoE, 37B active)",
    671.0,
    "fp8",
    688.0,
    163,
    163840,
    "ml.p5e.48xlarge",
    ("ml.p5e.48xlarge", "ml.p5en.48xlarge"),
    None,
    tgi_attention="flashdecoding",
)

MODELS: dict[str, CatalogModel] = {
    m.repo_id: m
    for m in [
        CatalogModel(
            "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
            "Qwen2.5-Math-1.5B",
            1.78,
            "bfloat16",
            3.6,
            1,
            _DISTILL_CONTEXT,
            "ml.g5.xlarge",
            ("ml.g5.xlarge", "ml.g6.xlarge"),
            KvGeometry(layers=28, attention_heads=12, kv_heads=2, head_dim=128),
        ),
        CatalogModel(
            "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
            "Qwen2.5-Math-7B",
            7.62,
            "bfloat16",
            15.2,
            2,
            _DISTILL_CONTEXT,
            "ml.g5.2xlarge",
            ("ml.g5.xlarge", "ml.g5.2xlarge", "ml.g6.xlarge", "ml.g6.2xlarge", "ml.g6e.xlarge"),
            KvGeometry(layers=28, attention_heads=28, kv_heads=4, head_dim=128),
        ),
        CatalogModel(
            "deepseek-ai/DeepSeek-R1-Distill-Llama-8B",
            "Llama-3.1-8B",
            8.03,
            "bfloat16",
            16.1,
            2,
            _DISTILL_CONTEXT,
            "ml.g5.2xlarge",
            ("ml.g5.xlarge", "ml.g5.2xlarge", "ml.g6.xlarge", "ml.g6.2xlarge", "ml.g6e.xlarge"),
            KvGeometry(layers=32, attention_heads=32, kv_heads=8, head_dim=128),
        ),
        CatalogModel(
            "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B",
            "Qwen2.5-14B",
            14.8,
            "bfloat16",
            29.5,
            4,
            _DISTILL_CONTEXT,
            "ml.g5.12xlarge",
            ("ml.g5.12xlarge", "ml.g6.12xlarge", "ml.g6e.2xlarge", "ml.g6e.xlarge"),
            KvGeometry(layers=48, attention_heads=40, kv_heads=8, head_dim=128),
        ),
        CatalogModel(
            "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
            "Qwen2.5-32B",
            32.8,
            "bfloat16",
            65.5,
            8,
            _DISTILL_CONTEXT,
            "ml.g6e.12xlarge",
            ("ml.g6e.12xlarge", "ml.g5.12xlarge", "ml.g6.12xlarge"),
            KvGeometry(layers=64, attention_heads=40, kv_heads=8, head_dim=128),
        ),
        CatalogModel(
            "deepseek-ai/DeepSeek-R1-Distill-Llama-70B",
            "Llama-3.3-70B-Instruct",
            70.6,
            "bfloat16",
            141.0,
            17,
            _DISTILL_CONTEXT,
            "ml.p4d.24xlarge",
            ("ml.p4d.24xlarge", "ml.g6e.48xlarge", "ml.g6e.12xlarge", "ml.g5.48xlarge", "ml.g6.48xlarge"),
            KvGeometry(layers=80, attention_heads=64, kv_heads=8, head_dim=128),
        ),
        _R1,
        # The same DeepSeek-V3 architecture and checkpoint layout, trained by reinforcement learning alone.
        dataclasses.replace(_R1, repo_id="deepseek-ai/DeepSeek-R1-Zero"),
    ]
}


def find_model(repo_id: str) -> CatalogModel | None:
    """Catalog entry for a Hub id; Hub ids are case-insensitive, so is this look-up."""
    lowered = repo_id.lower()
    return next((m for m in MODELS.values() if m.repo_id.lower() == lowered), None)
