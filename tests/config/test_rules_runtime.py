"""rules/runtime.py, rules/vllm.py, rules/sglang.py: the runtime a deployment runs, the settings section that goes
with it, the server flags users set (checked against the flag list recorded from the pinned server's source), and
the context window that the runtime's memory setting leaves room for."""

from __future__ import annotations

from rule_cases import HUB_TOKEN, Case, one_problem_test

from helpers import config_with, problems_of
from tgi_sagemaker.config.resolve import load_app

VLLM = {"runtime": "vllm"}
SGLANG = {"runtime": "sglang"}

CASES: list[Case] = [
    (
        "TGI setting with runtime vllm",
        {**VLLM, "tgi.max_total_tokens": 8192},
        {},
        "tgi.max_total_tokens",
        8192,
        "runtime: tgi",
    ),
    ("vLLM setting with runtime tgi", {"vllm.max_model_len": 8192}, {}, "vllm.max_model_len", 8192, "runtime: vllm"),
    (
        "SGLang setting with runtime vllm",
        {**VLLM, "sglang.mem_fraction_static": 0.8},
        {},
        "sglang.mem_fraction_static",
        0.8,
        "runtime: sglang",
    ),
    ("unknown runtime", {"runtime": "trt-llm"}, {}, "runtime", "trt-llm", "'tgi', 'vllm' or 'sglang'"),
    ("unknown vLLM version", {**VLLM, "vllm.version": "0.30.0"}, {}, "vllm.version", "0.30.0", "0.29.0"),
    ("unknown SGLang version", {**SGLANG, "sglang.version": "0.4"}, {}, "sglang.version", "0.4", "0.5.8"),
    (
        "vLLM flag misspelt",
        {**VLLM, "vllm.flags": {"enable-prefix-cachng": True}},
        {},
        "vllm.flags.enable-prefix-cachng",
        True,
        "did you mean 'enable-prefix-caching'",
    ),
    (
        "vLLM flag removed after the version that had it",
        {**VLLM, "vllm.flags": {"disable-log-requests": True}},
        {},
        "vllm.flags.disable-log-requests",
        True,
        "did you mean 'enable-log-requests'",
    ),
    (
        "a vLLM switch given a value (the server would read it as a stray word)",
        {**VLLM, "vllm.flags": {"enforce-eager": "yes"}},
        {},
        "vllm.flags.enforce-eager",
        "yes",
        "write enforce-eager: true (or false), unquoted",
    ),
    (
        "a vLLM flag that takes a value given true",
        {**VLLM, "vllm.flags": {"max-num-batched-tokens": True}},
        {},
        "vllm.flags.max-num-batched-tokens",
        True,
        "give --max-num-batched-tokens its value",
    ),
    (
        "an SGLang switch given a value",
        {**SGLANG, "sglang.flags": {"enable-metrics": "true"}},
        {},
        "sglang.flags.enable-metrics",
        "true",
        "write enable-metrics: true (or false), unquoted",
    ),
    (
        "false for a flag of a vLLM version whose flags are not recorded",
        {**VLLM, "vllm.version": "0.29", "vllm.flags": {"enable-prefix-caching": False}},
        {},
        "vllm.flags.enable-prefix-caching",
        False,
        "leave enable-prefix-caching out for the server's default, or write no-enable-prefix-caching: true",
    ),
    (
        "the negative form of a flag the library sets",
        {**VLLM, "model.trust_remote_code": True, "vllm.flags": {"no-trust-remote-code": True}},
        {},
        "vllm.flags.no-trust-remote-code",
        True,
        "set model.trust_remote_code",
    ),
    (
        "an empty value for a flag that takes one (it would pass the bare flag)",
        {**VLLM, "vllm.flags": {"max-num-batched-tokens": ""}},
        {},
        "vllm.flags.max-num-batched-tokens",
        "",
        "give --max-num-batched-tokens its value",
    ),
    (
        "SGLang flag misspelt",
        {**SGLANG, "sglang.flags": {"enable-metric": True}},
        {},
        "sglang.flags.enable-metric",
        True,
        "did you mean 'enable-metrics'",
    ),
    (
        "vLLM flag the library sets",
        {**VLLM, "vllm.flags": {"tensor-parallel-size": 2}},
        {},
        "vllm.flags.tensor-parallel-size",
        2,
        "set num_gpus",
    ),
    (
        "SGLang flag the library sets",
        {**SGLANG, "sglang.flags": {"model-path": "/opt/ml/model"}},
        {},
        "sglang.flags.model-path",
        "/opt/ml/model",
        "model.id",
    ),
    ("vLLM API key flag", {**VLLM, "vllm.flags": {"api-key": "abc"}}, {}, "vllm.flags.api-key", "***", "remove it"),
    (
        "SGLang flag holding a Hub token",
        {**SGLANG, "sglang.flags": {"tokenizer-path": HUB_TOKEN}},
        {},
        "sglang.flags.tokenizer-path",
        "***",
        "remove it",
    ),
    (
        "flag name with its dashes",
        {**VLLM, "vllm.flags": {"--max-num-batched-tokens": 8}},
        {},
        "vllm.flags.--max-num-batched-tokens.[key]",
        "--max-num-batched-tokens",
        "match the pattern",
    ),
    (
        "vLLM context beyond the KV cache",
        {**VLLM, "vllm.max_model_len": 65536},
        {},
        "vllm.max_model_len",
        65536,
        "use at most 54113",
    ),
    (
        "SGLang memory share that leaves no KV cache",
        {**SGLANG, "sglang.mem_fraction_static": 0.62},
        {},
        "sglang.mem_fraction_static",
        0.62,
        "raise it",
    ),
    (
        "vLLM memory share below the weights",
        {**VLLM, "vllm.gpu_memory_utilization": 0.5},
        {},
        "vllm.gpu_memory_utilization",
        0.5,
        "raise it",
    ),
    (
        "SGLang context beyond a small memory share",
        {**SGLANG, "sglang.mem_fraction_static": 0.68, "sglang.context_length": 16384},
        {},
        "sglang.context_length",
        16384,
        "raise sglang.mem_fraction_static",
    ),
    (
        "SGLang context beyond the model's",
        {**SGLANG, "sglang.context_length": 200000},
        {},
        "sglang.context_length",
        200000,
        "at most 131072",
    ),
    (
        "tensor parallel size that does not divide the heads",
        {
            **VLLM,
            "model.id": "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
            "instance_type": "ml.g5.48xlarge",
            "num_gpus": 8,
        },
        {},
        "num_gpus",
        8,
        "use one of [1, 2, 4]",
    ),
    ("memory fraction of 1", {**VLLM, "vllm.gpu_memory_utilization": 1.0}, {}, "gpu_memory_utilization", 1.0, "< 1"),
]

test_each_runtime_rule = one_problem_test(CASES)


def test_runtime_defaults_to_tgi_and_the_vllm_and_sglang_sections_are_unused() -> None:
    (deployment,) = load_app(config_with()).deployments
    assert deployment.spec.runtime == "tgi"
    assert deployment.runtime.container_name == "TGI"
    assert not any(key.startswith(("SM_VLLM_", "SM_SGLANG_")) for key in deployment.settings_environment)


def test_every_problem_of_another_runtime_section_is_reported_at_once() -> None:
    problems = problems_of(config_with({**VLLM, "tgi": {"max_total_tokens": 8192, "dtype": "float16"}}))
    assert sorted(p.field.split(".", 1)[1] for p in problems) == ["tgi.dtype", "tgi.max_total_tokens"]


def test_each_version_is_checked_against_its_own_flag_list() -> None:
    # --disable-log-requests was removed between vLLM 0.14 and 0.17 (0.17 has --enable-log-requests).
    (deployment,) = load_app(
        config_with({**VLLM, "vllm.version": "0.14", "vllm.flags": {"disable-log-requests": True}})
    ).deployments
    assert deployment.settings_environment["SM_VLLM_DISABLE_LOG_REQUESTS"] == ""  # the bare flag


def test_a_negatable_switch_is_turned_off_by_its_no_form() -> None:
    # vLLM's bool arguments are BooleanOptionalAction: false is --no-<flag>, written as its own bare flag; the
    # no- form may be written directly too
    for flags in ({"enable-prefix-caching": False}, {"no-enable-prefix-caching": True}):
        (deployment,) = load_app(config_with({**VLLM, "vllm.flags": flags})).deployments
        assert deployment.settings_environment["SM_VLLM_NO_ENABLE_PREFIX_CACHING"] == ""
        assert "SM_VLLM_ENABLE_PREFIX_CACHING" not in deployment.settings_environment
    assert [p.field for p in problems_of(config_with({**VLLM, "vllm.flags": {"no-max-model-len": True}}))] == [
        "deployments[r1-distill-llama-8b].vllm.flags.no-max-model-len"
    ]  # only switches have a no- form


def test_a_flag_of_a_version_without_a_recorded_flag_list_is_not_guessed_at() -> None:
    # Only the versions whose source was recorded are checked; others pass their flags through unjudged.
    (deployment,) = load_app(
        config_with({**VLLM, "vllm.version": "0.29", "vllm.flags": {"enable-some-new-thing": True}})
    ).deployments
    assert deployment.settings_environment["SM_VLLM_ENABLE_SOME_NEW_THING"] == ""  # the bare flag


def test_vllm_memory_setting_decides_the_kv_cache() -> None:
    low, high = (
        load_app(config_with({**VLLM, "vllm.gpu_memory_utilization": share})).deployments[0] for share in (0.8, 0.95)
    )
    assert low.kv_cache_token_capacity is not None and high.kv_cache_token_capacity is not None
    assert low.kv_cache_token_capacity < high.kv_cache_token_capacity
