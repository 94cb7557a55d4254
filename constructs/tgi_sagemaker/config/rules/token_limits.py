"""``tgi.max_*_tokens``: TGI's token limits, derived where left open so that they fit the model's context and the
KV cache left next to its weights, and checked against each other as TGI's launcher checks them."""

from __future__ import annotations

from tgi_sagemaker.catalog.instance_types import InstanceFigures
from tgi_sagemaker.catalog.models import GB, CatalogModel
from tgi_sagemaker.catalog.sizing import (
    DEFAULT_OUTPUT_TOKEN_BUDGET,
    PREFILL_TOKENS_OVER_INPUT,
    TokenLimits,
    default_token_limits,
    kv_cache_token_capacity,
)
from tgi_sagemaker.config.errors import Problems
from tgi_sagemaker.config.rules.runtime import kv_cache_dtype, memory_share
from tgi_sagemaker.config.spec import DeploymentSpec


def resolve_kv_cache_capacity(
    spec: DeploymentSpec,
    model: CatalogModel | None,
    instance: InstanceFigures | None,
    num_gpus: int | None,
    weights_bytes: int | None,
) -> int | None:
    """Tokens of KV cache that fit next to the weights in the memory the runtime takes; None where the model's
    attention shape is unknown."""
    attention = model.attention if model else None
    if instance and num_gpus and weights_bytes is not None and attention is not None:
        return kv_cache_token_capacity(
            weights_bytes, instance, num_gpus, attention, kv_cache_dtype(spec), memory_share(spec)
        )
    return None


def resolve_token_limits(
    spec: DeploymentSpec,
    context: int | None,
    capacity: int | None,
    num_gpus: int | None,
    instance: InstanceFigures | None,
    weights_bytes: int | None,
    problems: Problems,
) -> TokenLimits:
    tgi = spec.tgi
    derived = default_token_limits(context, capacity)
    total = tgi.max_total_tokens
    if total is None:
        total = derived.max_total_tokens
        if tgi.max_input_tokens is not None:
            total = max(total, tgi.max_input_tokens + DEFAULT_OUTPUT_TOKEN_BUDGET)
    max_input = tgi.max_input_tokens or total - min(DEFAULT_OUTPUT_TOKEN_BUDGET, total // 2)
    prefill = tgi.max_batch_prefill_tokens or max_input + PREFILL_TOKENS_OVER_INPUT
    if tgi.max_batch_prefill_tokens is None and tgi.max_batch_total_tokens is not None:
        prefill = min(prefill, tgi.max_batch_total_tokens)
    limits = TokenLimits(max_input_tokens=max_input, max_total_tokens=total, max_batch_prefill_tokens=prefill)
    if max_input >= total:
        problems.add(
            "tgi.max_input_tokens",
            max_input,
            f"TGI needs max_input_tokens below max_total_tokens ({total})",
            f"set tgi.max_input_tokens to at most {total - 1} or raise tgi.max_total_tokens",
        )
    beyond_context = context is not None and total > context
    if beyond_context:
        problems.add(
            "tgi.max_total_tokens",
            total,
            f"the model's context length is {context} tokens",
            f"set tgi.max_total_tokens to at most {context}",
        )
    batch_total = tgi.max_batch_total_tokens
    if batch_total is not None and total > batch_total:
        problems.add(
            "tgi.max_batch_total_tokens",
            batch_total,
            f"TGI needs it >= max_total_tokens ({total})",
            f"raise tgi.max_batch_total_tokens to at least {total} or leave it unset (TGI sizes it)",
        )
    if batch_total is not None and prefill > batch_total:
        problems.add(
            "tgi.max_batch_prefill_tokens",
            prefill,
            f"TGI needs it <= max_batch_total_tokens ({batch_total})",
            f"set tgi.max_batch_prefill_tokens to at most {batch_total}",
        )
    if capacity is not None and instance is not None and num_gpus is not None and weights_bytes is not None:
        checked_total = None if beyond_context else total  # one problem a field: the context one is enough
        for path, tokens in (("tgi.max_total_tokens", checked_total), ("tgi.max_batch_total_tokens", batch_total)):
            if tokens is not None and tokens > capacity:
                problems.add(
                    path,
                    tokens,
                    f"the KV cache left next to ~{weights_bytes / GB:.1f} GB of weights on {num_gpus} x "
                    f"{instance.gpu} holds about {capacity} tokens",
                    f"use at most {capacity}, set tgi.kv_cache_dtype to 'fp8_e4m3fn', or use a bigger instance type",
                )
    return limits
