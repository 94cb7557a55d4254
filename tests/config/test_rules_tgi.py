"""rules/tgi.py and runtimes/tgi/environment.py: the TGI image version, the precision, tgi.extra_env, and what
TGI itself refuses at start-up (each one TGI would otherwise refuse after a 10-30 minute deploy)."""

from __future__ import annotations

from rule_cases import HUB_TOKEN, PRE_QUANTIZED_MODEL, Case, one_problem_test

from helpers import config_with, problems_of

CASES: list[Case] = [
    (
        "DTYPE together with QUANTIZE",
        {**PRE_QUANTIZED_MODEL, "tgi.dtype": "bfloat16", "tgi.quantize": "awq"},
        {},
        "tgi.dtype",
        "bfloat16",
        "remove tgi.dtype",
    ),
    ("unknown TGI version", {"tgi.version": "3.4.0"}, {}, "tgi.version", "3.4.0", "3.3.6"),
    (
        "exl2 on more than one GPU",
        {**PRE_QUANTIZED_MODEL, "instance_type": "ml.g5.12xlarge", "tgi.quantize": "exl2", "num_gpus": 4},
        {},
        "num_gpus",
        4,
        "num_gpus to 1",
    ),
    ("zero concurrent requests", {"tgi.max_concurrent_requests": 0}, {}, "tgi.max_concurrent_requests", 0, "> 0"),
    (
        "managed variable in extra_env",
        {"tgi.extra_env": {"HF_MODEL_ID": "s3://bucket/model/"}},
        {},
        "tgi.extra_env.HF_MODEL_ID",
        "s3://bucket/model/",
        "model.id",
    ),
    (
        "ENDPOINT_SERVER_TIMEOUT in extra_env",
        {"tgi.extra_env": {"ENDPOINT_SERVER_TIMEOUT": "3600"}},
        {},
        "tgi.extra_env.ENDPOINT_SERVER_TIMEOUT",
        "3600",
        "timeouts.container_startup_health_check_seconds",
    ),
    (
        "secret in extra_env",
        {"tgi.extra_env": {"HF_TOKEN": "hf_abcdefgh"}},
        {},
        "tgi.extra_env.HF_TOKEN",
        "***",
        "weights.hf_token_secret",
    ),
    (
        "legacy MAX_INPUT_LENGTH in extra_env",
        {"tgi.extra_env": {"MAX_INPUT_LENGTH": "1000"}},
        {},
        "tgi.extra_env.MAX_INPUT_LENGTH",
        "1000",
        "tgi.max_input_tokens",
    ),
    (
        "a token as an extra_env value",
        {"tgi.extra_env": {"MODEL_LOADER_OPTS": f"--auth {HUB_TOKEN}"}},
        {},
        "tgi.extra_env.MODEL_LOADER_OPTS",
        "***",
        "weights.hf_token_secret",
    ),
    (
        "prefill budget below the input limit without prefill chunking",
        {"tgi.max_batch_prefill_tokens": 2048, "tgi.extra_env": {"PREFILL_CHUNKING": "0"}},
        {},
        "tgi.max_batch_prefill_tokens",
        2048,
        "at least 3072",
    ),
    (
        "prefill budget below the input limit for a model outside the catalog",
        {**PRE_QUANTIZED_MODEL, "tgi.max_batch_prefill_tokens": 1024},
        {},
        "tgi.max_batch_prefill_tokens",
        1024,
        "at least 3072",
    ),
    (
        "a pre-quantized method on a bfloat16 checkpoint",
        {"tgi.quantize": "awq"},
        {},
        "tgi.quantize",
        "awq",
        "eetq, fp8 or bitsandbytes-nf4",
    ),
    (
        "an fp8 KV cache where TGI uses flashdecoding attention",
        {"model.id": "deepseek-ai/DeepSeek-R1", "instance_type": "ml.p5e.48xlarge", "tgi.kv_cache_dtype": "fp8_e4m3fn"},
        {},
        "tgi.kv_cache_dtype",
        "fp8_e4m3fn",
        "remove tgi.kv_cache_dtype",
    ),
    (
        "an fp8 KV cache with flashdecoding chosen in extra_env",
        {"tgi.kv_cache_dtype": "fp8_e5m2", "tgi.extra_env": {"ATTENTION": "flashdecoding"}},
        {},
        "tgi.kv_cache_dtype",
        "fp8_e5m2",
        "remove tgi.kv_cache_dtype",
    ),
    (
        "an fp8 KV cache with paged attention on TGI 3.0",
        {"tgi.version": "3.0.1", "tgi.kv_cache_dtype": "fp8_e5m2", "tgi.extra_env": {"ATTENTION": "paged"}},
        {},
        "tgi.kv_cache_dtype",
        "fp8_e5m2",
        "remove tgi.kv_cache_dtype",
    ),
    (
        "an attention backend TGI does not know",
        {"tgi.extra_env": {"ATTENTION": "flash"}},
        {},
        "tgi.extra_env.ATTENTION",
        "flash",
        "use one",
    ),
    (
        "prefix caching with paged attention",
        {"tgi.extra_env": {"ATTENTION": "paged", "PREFIX_CACHING": "1"}},
        {},
        "tgi.extra_env.PREFIX_CACHING",
        "1",
        "remove PREFIX_CACHING",
    ),
    (
        "zero validation workers",
        {"tgi.extra_env": {"VALIDATION_WORKERS": "0"}},
        {},
        "tgi.extra_env.VALIDATION_WORKERS",
        "0",
        "1 or more",
    ),
    (
        "zero batch size",
        {"tgi.extra_env": {"MAX_BATCH_SIZE": "0"}},
        {},
        "tgi.extra_env.MAX_BATCH_SIZE",
        "0",
        "1 or more",
    ),
    (
        "a launcher number that is not one",
        {"tgi.extra_env": {"MAX_BEST_OF": "two"}},
        {},
        "tgi.extra_env.MAX_BEST_OF",
        "two",
        "plain number",
    ),
    (
        "a port above 65535",
        {"tgi.extra_env": {"PROMETHEUS_PORT": "70000"}},
        {},
        "tgi.extra_env.PROMETHEUS_PORT",
        "70000",
        "plain number",
    ),
    (
        "a launcher fraction that is not a number",
        {"tgi.extra_env": {"CUDA_MEMORY_FRACTION": "90%"}},
        {},
        "tgi.extra_env.CUDA_MEMORY_FRACTION",
        "90%",
        "0.9",
    ),
    (
        "a launcher choice TGI does not offer",
        {"tgi.extra_env": {"ROPE_SCALING": "yarn"}},
        {},
        "tgi.extra_env.ROPE_SCALING",
        "yarn",
        "use one of them",
    ),
    (
        "CUDA graph sizes that are not numbers",
        {"tgi.extra_env": {"CUDA_GRAPHS": "1,2,four"}},
        {},
        "tgi.extra_env.CUDA_GRAPHS",
        "1,2,four",
        "'1,2,4,8'",
    ),
    (
        "SHARDED that is not true or false",
        {"tgi.extra_env": {"SHARDED": "yes"}},
        {},
        "tgi.extra_env.SHARDED",
        "yes",
        "use one of them",
    ),
    (
        "SHARDED on one GPU",
        {"tgi.extra_env": {"SHARDED": "true"}},
        {},
        "tgi.extra_env.SHARDED",
        "true",
        "num_gpus decides",
    ),
    ("ngrok tunneling", {"tgi.extra_env": {"NGROK": "true"}}, {}, "tgi.extra_env.NGROK", "true", "remove it"),
    (
        "a wiggle room of 100 %",
        {"tgi.extra_env": {"TGI_WIGGLE_ROOM": "1.0"}},
        {},
        "tgi.extra_env.TGI_WIGGLE_ROOM",
        "1.0",
        "0.9",
    ),
    (
        "a LoRA adapter TGI cannot parse",
        {"weights.source": "hub", "tgi.extra_env": {"LORA_ADAPTERS": "acme/a@v1@v2"}},
        {},
        "tgi.extra_env.LORA_ADAPTERS",
        "acme/a@v1@v2",
        "'id@revision'",
    ),
    (
        "LoRA adapters from the Hub behind network isolation",
        {"tgi.extra_env": {"LORA_ADAPTERS": "acme/sql-adapter"}},
        {},
        "tgi.extra_env.LORA_ADAPTERS",
        "acme/sql-adapter",
        "weights.source 'hub'",
    ),
]


test_each_invalid_spec_gives_one_problem_naming_field_value_and_fix = one_problem_test(CASES)


def test_what_tgi_accepts_is_accepted() -> None:
    """The other side of the start-up rules: settings TGI takes must not be refused."""
    accepted = [
        {"tgi.max_batch_prefill_tokens": 1024},  # below max_input_tokens: the distills chunk their prefill
        {"tgi.dtype": "bfloat16", "tgi.quantize": "bitsandbytes-nf4"},  # DTYPE goes with bitsandbytes
        {"tgi.quantize": "eetq"},  # quantized at load time
        {"tgi.kv_cache_dtype": "fp8_e4m3fn"},  # flashinfer attention
        {"tgi.kv_cache_dtype": "fp8_e4m3fn", "tgi.extra_env": {"ATTENTION": "paged"}},  # paged: since TGI 3.1
        {"tgi.extra_env": {"CUDA_GRAPHS": "1,2,4", "ROPE_SCALING": "dynamic", "MAX_BATCH_SIZE": "+8"}},
        {"tgi.extra_env": {"LORA_ADAPTERS": "sql=/opt/ml/model/adapters/sql"}},  # local adapters need no network
        {"tgi.extra_env": {"NGROK": "false", "CUDA_MEMORY_FRACTION": "0.85", "TGI_WIGGLE_ROOM": ".8"}},
    ]
    for changes in accepted:
        assert problems_of(config_with(changes)) == [], changes


def test_messages_never_echo_secret_values() -> None:
    problems = problems_of(config_with({"tgi.extra_env": {"MY_API_KEY": "sk-live-123456"}}))
    assert problems and all("sk-live-123456" not in str(p) for p in problems)
