"""vLLM and SGLang behind the runtime seam: where the model is, what the settings become as the containers'
entrypoints read them, and that every flag the library sets is a flag of the pinned server version."""

from __future__ import annotations

import importlib.util
import json
import sys
import zipfile
from pathlib import Path

import pytest

from helpers import ROOT, config_with
from tgi_sagemaker.cli.client.payloads import APIS
from tgi_sagemaker.config.resolve import ResolvedDeployment, load_app
from tgi_sagemaker.runtimes.runtime import MODEL_DIRECTORY, HubModel, ModelDirectory, ServingRuntime
from tgi_sagemaker.runtimes.server_flags import flag_variable, variable_flag
from tgi_sagemaker.runtimes.sglang import runtime as sglang_runtime
from tgi_sagemaker.runtimes.sglang.image import SGLANG_FLAGS
from tgi_sagemaker.runtimes.sglang.runtime import Sglang
from tgi_sagemaker.runtimes.vllm import runtime as vllm_runtime
from tgi_sagemaker.runtimes.vllm.image import VLLM_FLAGS
from tgi_sagemaker.runtimes.vllm.runtime import Vllm

RUNTIMES = [("vllm", Vllm(), vllm_runtime.PREFIX, "model"), ("sglang", Sglang(), sglang_runtime.PREFIX, "model-path")]


def _deployment(runtime: str, **changes: object) -> ResolvedDeployment:
    (deployment,) = load_app(config_with({"runtime": runtime, **changes})).deployments
    return deployment


@pytest.mark.parametrize(("name", "runtime", "prefix", "model_flag"), RUNTIMES)
def test_model_location(name: str, runtime: ServingRuntime, prefix: str, model_flag: str) -> None:
    assert runtime.model_environment(ModelDirectory()) == {flag_variable(prefix, model_flag): MODEL_DIRECTORY}
    hub = runtime.model_environment(HubModel("a/b", revision="v1", token="{{resolve:secretsmanager:t}}"))
    assert hub == {
        flag_variable(prefix, model_flag): "a/b",
        flag_variable(prefix, "revision"): "v1",
        "HF_TOKEN": "{{resolve:secretsmanager:t}}",
    }
    assert set(hub) == runtime.model_variables
    # vLLM's /invocations takes chat or a raw prompt; SGLang's chat only (sagemaker_chat_completions).
    assert runtime.stream_formats == {"vllm": ("messages", "completions"), "sglang": ("messages",)}[name]
    assert set(runtime.stream_formats) <= set(APIS)  # the CLI speaks every stream a runtime serves


def test_vllm_environment_of_the_default_deployment() -> None:
    deployment = _deployment("vllm")
    assert dict(deployment.settings_environment) == {
        "SM_VLLM_HOST": "0.0.0.0",
        "SM_VLLM_SERVED_MODEL_NAME": "deepseek-ai/DeepSeek-R1-Distill-Llama-8B",
        "SM_VLLM_TENSOR_PARALLEL_SIZE": "1",
        "SM_VLLM_MAX_MODEL_LEN": "4096",
        "SM_VLLM_GPU_MEMORY_UTILIZATION": "0.9",
        "SM_VLLM_DTYPE": "bfloat16",
        "SM_VLLM_REASONING_PARSER": "deepseek_r1",
    }
    assert deployment.runtime.gpus_per_copy_variable in deployment.settings_environment


def test_sglang_environment_with_flags_and_gpus() -> None:
    deployment = _deployment(
        "sglang",
        instance_type="ml.g5.12xlarge",
        **{"sglang.flags": {"enable-metrics": True, "disable-radix-cache": False, "chunked-prefill-size": 4096}},
    )
    environment = deployment.settings_environment
    assert environment["SM_SGLANG_HOST"] == "0.0.0.0"  # SGLang binds 127.0.0.1 by default
    assert environment["SM_SGLANG_TP_SIZE"] == "4"  # every GPU: 32 heads and 8 KV heads divide by 4
    assert environment["SM_SGLANG_REASONING_PARSER"] == "deepseek-r1"
    # A switch set true is an empty value (the bare flag on either entrypoint), one set false no variable at all
    # (SGLang's switches are store_true: off unless given); test_entrypoints.py runs both entrypoints over them.
    assert environment["SM_SGLANG_ENABLE_METRICS"] == ""
    assert "SM_SGLANG_DISABLE_RADIX_CACHE" not in environment
    assert environment["SM_SGLANG_CHUNKED_PREFILL_SIZE"] == "4096"


def test_tensor_parallel_size_divides_the_attention_heads() -> None:
    # R1-Distill-Qwen-7B: 28 attention heads, 4 KV heads: 8 GPUs do not divide them, 4 do.
    deployment = _deployment(
        "vllm", **{"model.id": "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"}, instance_type="ml.g5.48xlarge"
    )
    assert deployment.settings_environment["SM_VLLM_TENSOR_PARALLEL_SIZE"] == "4"


@pytest.mark.parametrize(
    ("name", "recorded", "version"), [("vllm", VLLM_FLAGS, "0.17.0"), ("sglang", SGLANG_FLAGS, "0.5.8")]
)
def test_every_flag_the_library_sets_is_a_flag_of_the_pinned_server(name: str, recorded: dict, version: str) -> None:
    deployment = _deployment(name, **{"model.trust_remote_code": True, f"{name}.kv_cache_dtype": "fp8_e5m2"})
    prefix = vllm_runtime.PREFIX if name == "vllm" else sglang_runtime.PREFIX
    runtime = deployment.runtime
    environment = {
        **runtime.model_environment(HubModel("a/b", revision="v1")),
        **deployment.settings_environment,
    }
    flags = {variable_flag(prefix, key) for key in environment if key.startswith(prefix)}
    assert deployment.runtime.image.version == version
    assert flags - recorded[version].flags == set()
    managed = vllm_runtime.MANAGED_FLAGS if name == "vllm" else sglang_runtime.MANAGED_FLAGS
    for flag_list in recorded.values():  # every recorded version has the flags the library sets
        assert set(managed) - flag_list.flags == set(), flag_list.version


def test_the_flag_refresh_tool_reads_add_argument_calls_and_frontend_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location("refresh_flags", ROOT / "constructs/tools/refresh_flags.py")
    assert spec is not None and spec.loader is not None
    refresh = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, refresh)
    spec.loader.exec_module(refresh)
    wheel = tmp_path / "vllm-9.9.9-cp38-abi3-manylinux_2_31_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(
            "vllm/engine/arg_utils.py",
            "class EngineArgs:\n    trust_remote_code: bool = False\n    enable_prefix_caching: bool | None = None\n"
            "    max_model_len: int | None = None\n"
            "def add(parser):\n"
            '    parser.add_argument("--max-model-len", **model_kwargs["max_model_len"])\n'
            '    group.add_argument("-tp", "--tensor-parallel-size")\n'
            '    group.add_argument("--trust-remote-code", **model_kwargs["trust_remote_code"])\n'
            '    group.add_argument("--enable-prefix-caching", **{**cache_kwargs["enable_prefix_caching"], "x": 1})\n'
            '    group.add_argument("--enable-lora", action=argparse.BooleanOptionalAction)\n'
            '    parser.add_argument("--disable-log-stats", action="store_true")\n',
        )
        archive.writestr(
            "vllm/entrypoints/openai/cli_args.py",
            "class BaseFrontendArgs:\n    enable_auto_tool_choice: bool = False\n    _private: int = 0\n"
            "class Other:\n    not_a_flag: int = 0\n",
        )
    version, flags = refresh.server_flags(refresh.SOURCES["vllm"], wheel)
    assert version == "9.9.9"
    assert flags == {
        "flags": [
            "disable-log-stats",
            "enable-auto-tool-choice",
            "enable-lora",
            "enable-prefix-caching",
            "max-model-len",
            "tensor-parallel-size",
            "trust-remote-code",
        ],
        "switches": [
            "disable-log-stats",
            "enable-auto-tool-choice",
            "enable-lora",
            "enable-prefix-caching",
            "trust-remote-code",
        ],
        "negatable": ["enable-auto-tool-choice", "enable-lora", "enable-prefix-caching", "trust-remote-code"],
    }
    recorded = json.loads(refresh.SOURCES["vllm"].output.read_text())
    assert set(recorded["versions"]) == {"0.14.0", "0.17.0"}


def test_plan_names_the_runtime_its_context_window_kv_cache_and_ami() -> None:
    from tgi_sagemaker.cli.plan import describe_deployment

    text = "\n".join(describe_deployment(_deployment("vllm", **{"vllm.version": "0.29"})))
    assert "image      vLLM 0.29.0 (" in text and "on AMI al2-ami-sagemaker-inference-gpu-3-1 (CUDA 13.0)" in text
    assert "(SM_VLLM_TENSOR_PARALLEL_SIZE=1)" in text
    assert "vllm       max_model_len=4096 gpu_memory_utilization=0.9, KV cache ~54113 tokens" in text
    text = "\n".join(describe_deployment(_deployment("sglang")))
    assert "image      SGLang 0.5.8 (" in text and "AMI" not in text
    assert "sglang     context_length=4096 mem_fraction_static=0.85, KV cache ~44283 tokens" in text


def test_catalog_gives_each_runtime_its_kv_cache_on_the_recommended_instance() -> None:
    from tgi_sagemaker.cli.plan import catalog_entries

    for entry in catalog_entries():
        by_runtime = entry["defaults"]["kv_cache_tokens_by_runtime"]
        assert list(by_runtime) == ["tgi", "vllm", "sglang"]
        assert by_runtime["tgi"] == entry["defaults"]["kv_cache_token_capacity"]
        if entry["attention"] is not None:  # SGLang's 0.85 of GPU memory leaves less than vLLM's 0.9
            assert 0 < by_runtime["sglang"] < by_runtime["vllm"]
