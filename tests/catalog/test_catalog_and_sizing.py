"""The catalog matches FACTS.md and the blog; sizing picks GPUs and token limits that fit."""

from __future__ import annotations

import pytest

from helpers import config_with
from tgi_sagemaker import load_app
from tgi_sagemaker.catalog.instance_types import INSTANCE_TYPES, find_instance_type, similar_instance_types
from tgi_sagemaker.catalog.models import MODELS, find_model
from tgi_sagemaker.catalog.sizing import (
    copies_that_fit,
    default_num_gpus,
    default_token_limits,
    fitting_instance_types,
    kv_cache_token_capacity,
    weights_fit,
)

FAMILY_GPUS = {
    "xlarge": 1,
    "2xlarge": 1,
    "4xlarge": 1,
    "8xlarge": 1,
    "16xlarge": 1,
    "12xlarge": 4,
    "24xlarge": 4,
    "48xlarge": 8,
}


def test_catalog_holds_r1_r1_zero_and_the_six_distills() -> None:
    assert sorted(m.short_name for m in MODELS.values()) == sorted(
        [
            "DeepSeek-R1",
            "DeepSeek-R1-Zero",
            "DeepSeek-R1-Distill-Qwen-1.5B",
            "DeepSeek-R1-Distill-Qwen-7B",
            "DeepSeek-R1-Distill-Llama-8B",
            "DeepSeek-R1-Distill-Qwen-14B",
            "DeepSeek-R1-Distill-Qwen-32B",
            "DeepSeek-R1-Distill-Llama-70B",
        ]
    )
    assert find_model("DEEPSEEK-AI/deepseek-r1-distill-llama-8b") is MODELS["deepseek-ai/DeepSeek-R1-Distill-Llama-8B"]


@pytest.mark.parametrize("family", ["g5", "g6", "g6e"])
def test_g_families_have_every_size_with_the_right_gpu_count(family: str) -> None:
    for size, gpus in FAMILY_GPUS.items():
        instance = INSTANCE_TYPES[f"ml.{family}.{size}"]
        assert instance.gpu_count == gpus
        assert instance.gpu_memory_gib == (48 if family == "g6e" else 24)
        assert instance.has_local_nvme


def test_p_families_have_eight_gpus_of_their_memory() -> None:
    expected = {
        "ml.p4d.24xlarge": 40,
        "ml.p4de.24xlarge": 80,
        "ml.p5.48xlarge": 80,
        "ml.p5e.48xlarge": 141,
        "ml.p5en.48xlarge": 141,
    }
    for name, memory in expected.items():
        assert (INSTANCE_TYPES[name].gpu_count, INSTANCE_TYPES[name].gpu_memory_gib) == (8, memory)
    assert len(INSTANCE_TYPES) == 3 * 8 + 5


@pytest.mark.parametrize("model", MODELS.values(), ids=lambda m: m.short_name)
def test_every_blog_instance_and_the_recommended_one_fit(model) -> None:  # type: ignore[no-untyped-def]
    assert model.recommended_instance in model.blog_instances
    for name in model.blog_instances:
        instance = find_instance_type(name)
        assert instance is not None, name
        gpus = default_num_gpus(model.weights_bytes, instance, model.attention)
        assert gpus is not None, f"{model.short_name} should fit {name} as the blog ran it"
        assert weights_fit(model.weights_bytes, instance, gpus)


def test_r1_does_not_fit_p5_but_fits_h200_instances() -> None:
    r1 = MODELS["deepseek-ai/DeepSeek-R1"]
    assert default_num_gpus(r1.weights_bytes, INSTANCE_TYPES["ml.p5.48xlarge"], r1.attention) is None
    assert fitting_instance_types(r1.weights_bytes, r1.attention) == ["ml.p5e.48xlarge"]


def test_gpus_follow_the_heads_tgi_can_split() -> None:
    qwen7b = MODELS["deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"]  # 28 heads, 4 KV heads
    assert default_num_gpus(qwen7b.weights_bytes, INSTANCE_TYPES["ml.g5.48xlarge"], qwen7b.attention) == 4
    qwen1_5b = MODELS["deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"]  # 2 KV heads
    assert default_num_gpus(qwen1_5b.weights_bytes, INSTANCE_TYPES["ml.g5.12xlarge"], qwen1_5b.attention) == 2
    qwen14b = MODELS["deepseek-ai/DeepSeek-R1-Distill-Qwen-14B"]
    assert default_num_gpus(qwen14b.weights_bytes, INSTANCE_TYPES["ml.g5.12xlarge"], qwen14b.attention) == 4


def test_kv_cache_capacity_of_the_default_deployment() -> None:
    llama8b = MODELS["deepseek-ai/DeepSeek-R1-Distill-Llama-8B"]
    # 0.9 x 24 GiB - 16.1 GB of weights = 7.09 GB; 32 layers x 8 KV heads x 128 x 2 (K, V) x 2 bytes = 128 KiB
    tokens = kv_cache_token_capacity(llama8b.weights_bytes, INSTANCE_TYPES["ml.g5.2xlarge"], 1, llama8b.attention, None)
    assert tokens == int((0.9 * 24 * 1024**3 - 16.1e9) // (128 * 1024))
    fp8 = kv_cache_token_capacity(
        llama8b.weights_bytes, INSTANCE_TYPES["ml.g5.2xlarge"], 1, llama8b.attention, "fp8_e4m3fn"
    )
    assert fp8 == pytest.approx(2 * tokens, abs=1)


def test_default_token_limits_are_the_blogs_and_shrink_to_fit() -> None:
    blog = default_token_limits(131072, 54000)
    assert (blog.max_input_tokens, blog.max_total_tokens, blog.max_batch_prefill_tokens) == (3072, 4096, 3200)
    small = default_token_limits(2048, None)
    assert (small.max_input_tokens, small.max_total_tokens, small.max_batch_prefill_tokens) == (1024, 2048, 1152)
    tight = default_token_limits(None, 3000)
    assert tight.max_total_tokens == 2816 and tight.max_input_tokens == 1792


def test_every_catalog_model_resolves_on_its_recommended_instance() -> None:
    for model in MODELS.values():
        app = load_app(config_with({"model.id": model.repo_id, "instance_type": None}))
        (deployment,) = app.deployments
        assert deployment.instance.name == model.recommended_instance
        environment = deployment.settings_environment
        assert int(environment["MAX_INPUT_TOKENS"]) < int(environment["MAX_TOTAL_TOKENS"]) <= model.context_length
        expected_dtype = None if model.native_dtype == "fp8" else "bfloat16"
        assert environment.get("DTYPE") == expected_dtype


def test_user_token_limits_derive_the_rest() -> None:
    (deployment,) = load_app(config_with({"tgi.max_input_tokens": 8000})).deployments
    assert deployment.settings_environment["MAX_TOTAL_TOKENS"] == "9024"
    assert deployment.settings_environment["MAX_BATCH_PREFILL_TOKENS"] == "8128"
    (deployment,) = load_app(config_with({"tgi.max_total_tokens": 16384})).deployments
    assert deployment.settings_environment["MAX_INPUT_TOKENS"] == "15360"


def test_close_instance_names_are_suggested() -> None:
    assert similar_instance_types("g5.2xlarge")[0] == "ml.g5.2xlarge"
    assert similar_instance_types("ml.g6e.2xlarg")[0] == "ml.g6e.2xlarge"


def test_a_model_copy_never_spans_instances() -> None:
    four_gpus = INSTANCE_TYPES["ml.g5.12xlarge"]
    assert copies_that_fit(four_gpus, 2, 1) == 8
    assert copies_that_fit(four_gpus, 2, 3) == 2  # one three-GPU copy an instance: the fourth GPU stays idle
    assert copies_that_fit(four_gpus, 3, 8) == 0
