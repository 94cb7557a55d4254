"""GPU sizing: does a model fit an instance, over how many GPUs, and which TGI token limits fit.

The rule is deliberately simple and conservative, so a config that passes has room to run:
- weights may take at most ``MAX_WEIGHTS_SHARE`` of the GPU memory they are sharded over;
- of the rest, ``USABLE_MEMORY_SHARE`` of the total minus the weights is KV cache (CUDA context, activations
  and CUDA graphs take the remainder); one full ``max_total_tokens`` sequence must fit in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tgi_sagemaker.catalog.instance_types import GIB, INSTANCE_TYPES, InstanceFigures
from tgi_sagemaker.catalog.models import KvGeometry

MAX_WEIGHTS_SHARE = 0.80
USABLE_MEMORY_SHARE = 0.90

# Memory a parameter takes once loaded. Quantized formats carry scales and zero points: ~10% over 4 bits.
BYTES_PER_PARAMETER: dict[str, float] = {
    "bfloat16": 2.0,
    "float16": 2.0,
    "fp8": 1.0,
    "eetq": 1.0,
    "bitsandbytes": 1.0,
    "awq": 0.55,
    "gptq": 0.55,
    "marlin": 0.55,
    "exl2": 0.55,
    "compressed-tensors": 0.55,
    "bitsandbytes-nf4": 0.55,
    "bitsandbytes-fp4": 0.55,
}

KV_CACHE_BYTES_PER_ELEMENT = {
    None: 2.0,
    "fp8_e4m3fn": 1.0,  # TGI's names
    "fp8_e5m2": 1.0,
    "fp8": 1.0,  # vLLM's and SGLang's
    "fp8_e4m3": 1.0,
}

# The blog's TGI settings (MAX_TOTAL_TOKENS 4096, MAX_INPUT_TOKENS 3072, MAX_BATCH_PREFILL_TOKENS 3200),
# expressed as rules so they scale down when a model's context or KV cache is smaller.
DEFAULT_MAX_TOTAL_TOKENS = 4096
DEFAULT_OUTPUT_TOKEN_BUDGET = 1024
PREFILL_TOKENS_OVER_INPUT = 128
TOKEN_GRANULARITY = 256


@dataclass(frozen=True)
class TokenLimits:
    max_input_tokens: int
    max_total_tokens: int
    max_batch_prefill_tokens: int


def weights_bytes_from_parameters(parameters_billion: float, precision: str) -> int:
    return int(parameters_billion * 1e9 * BYTES_PER_PARAMETER[precision])


def weights_fit(weights_bytes: int, instance: InstanceFigures, num_gpus: int) -> bool:
    return weights_bytes <= MAX_WEIGHTS_SHARE * num_gpus * instance.gpu_memory_gib * GIB


def gpu_counts(instance: InstanceFigures, attention: KvGeometry | None) -> list[int]:
    """GPU counts TGI can shard over on this instance, smallest first."""
    counts = [n for n in (1, 2, 4, 8) if n <= instance.gpu_count]
    return [n for n in counts if attention is None or attention.can_shard(n)]


def default_num_gpus(weights_bytes: int | None, instance: InstanceFigures, attention: KvGeometry | None) -> int | None:
    """Every GPU of the instance that the model can be sharded over, if the weights fit there; else None.

    An instance-based endpoint pays for all its GPUs, and spare GPU memory becomes KV cache (more concurrent
    sequences), so the largest shardable count wins.
    """
    counts = gpu_counts(instance, attention)
    if not counts:
        return None
    largest = counts[-1]
    if weights_bytes is not None and not weights_fit(weights_bytes, instance, largest):
        return None
    return largest


def kv_cache_token_capacity(
    weights_bytes: int,
    instance: InstanceFigures,
    num_gpus: int,
    attention: KvGeometry,
    kv_cache_dtype: str | None,
    memory_share: float = USABLE_MEMORY_SHARE,
) -> int:
    """How many tokens of KV cache fit next to the weights (all sequences of a batch together) in ``memory_share``
    of the GPU memory: TGI's usable share, or the share vLLM (``gpu_memory_utilization``) or SGLang
    (``mem_fraction_static``) is told to take for weights and cache."""
    usable = memory_share * num_gpus * instance.gpu_memory_gib * GIB
    per_token = attention.kv_cache_bytes_per_token(KV_CACHE_BYTES_PER_ELEMENT[kv_cache_dtype])
    return max(0, int((usable - weights_bytes) // per_token))


def default_token_limits(context_length: int | None, kv_capacity_tokens: int | None) -> TokenLimits:
    ceiling = DEFAULT_MAX_TOTAL_TOKENS
    for bound in (context_length, kv_capacity_tokens):
        if bound is not None:
            ceiling = min(ceiling, bound)
    total = max(TOKEN_GRANULARITY * 2, ceiling // TOKEN_GRANULARITY * TOKEN_GRANULARITY)
    output_budget = min(DEFAULT_OUTPUT_TOKEN_BUDGET, total // 2)
    max_input = total - output_budget
    return TokenLimits(
        max_input_tokens=max_input,
        max_total_tokens=total,
        max_batch_prefill_tokens=max_input + PREFILL_TOKENS_OVER_INPUT,
    )


def fitting_instance_types(
    weights_bytes: int, attention: KvGeometry | None, preferred: tuple[str, ...] = (), limit: int = 4
) -> list[str]:
    """Instance types the weights fit on, for error messages: ``preferred`` ones first (e.g. the blog's
    shortlist), then the others by GPU memory, one size per GPU configuration (the one with fewest vCPUs)."""
    fitting = [it for it in INSTANCE_TYPES.values() if default_num_gpus(weights_bytes, it, attention) is not None]
    fitting.sort(key=lambda it: (it.total_gpu_memory_bytes, it.gpu_count, it.vcpus))
    names = [name for name in preferred if any(it.name == name for it in fitting)]
    seen_gpu_configurations = set()
    for it in fitting:
        configuration = (it.gpu, it.gpu_count, it.gpu_memory_gib)
        if configuration not in seen_gpu_configurations and it.name not in names:
            names.append(it.name)
        seen_gpu_configurations.add(configuration)
    return names[:limit]


def copies_that_fit(instance: InstanceFigures, instances: int, gpus_per_copy: int) -> int:
    """Model copies of ``gpus_per_copy`` GPUs that ``instances`` of the type hold: a copy never spans instances."""
    return instances * (instance.gpu_count // gpus_per_copy)


def copy_memory_needed_mb(part_size_mb: int, max_in_flight: int) -> int:
    """Lambda memory a copy needs: the parts in flight, and as much again for buffers and the runtime."""
    return 2 * part_size_mb * max_in_flight
