"""rules/token_limits.py: TGI's token limits against each other, the context length and the KV cache that fits."""

from __future__ import annotations

from rule_cases import Case, one_problem_test

CASES: list[Case] = [
    (
        "max_input_tokens >= max_total_tokens",
        {"tgi.max_input_tokens": 4096, "tgi.max_total_tokens": 4096},
        {},
        "tgi.max_input_tokens",
        4096,
        "at most 4095",
    ),
    (
        "max_total_tokens above the context",
        {"tgi.max_total_tokens": 200_000},
        {},
        "tgi.max_total_tokens",
        200_000,
        "at most 131072",
    ),
    (
        "one sequence does not fit the KV cache",
        {"tgi.max_total_tokens": 100_000, "tgi.max_input_tokens": 90_000},
        {},
        "tgi.max_total_tokens",
        100_000,
        "kv_cache_dtype",
    ),
    (
        "max_batch_total_tokens below max_total_tokens",
        {"tgi.max_batch_total_tokens": 2048},
        {},
        "tgi.max_batch_total_tokens",
        2048,
        "at least 4096",
    ),
    (
        "prefill above max_batch_total_tokens",
        {"tgi.max_batch_total_tokens": 8192, "tgi.max_batch_prefill_tokens": 9000},
        {},
        "tgi.max_batch_prefill_tokens",
        9000,
        "at most 8192",
    ),
]


test_each_invalid_spec_gives_one_problem_naming_field_value_and_fix = one_problem_test(CASES)
