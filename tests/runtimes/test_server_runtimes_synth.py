"""Every catalog model synthesizes on its recommended instance with vLLM and with SGLang, and the example configs
of each runtime synthesize; cfn-lint, cdk-nag (``synthesize`` raises on a finding) and checkov are clean on each
assembly; a CUDA 13 image gets the AMI with its driver in both scaling modes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from server_entrypoints import GENERATIONS, start

from helpers import ROOT, Synthesized, cfn_lint, checkov, default_config, synthesize
from tgi_sagemaker.catalog.models import MODELS
from tgi_sagemaker.runtimes.runtime import CUDA_13_INFERENCE_AMI
from tgi_sagemaker.runtimes.sglang.image import SGLANG_FLAGS
from tgi_sagemaker.runtimes.vllm.image import VLLM_FLAGS

SERVER_RUNTIMES = ("vllm", "sglang")
MODEL_VARIABLE = {"vllm": "SM_VLLM_MODEL", "sglang": "SM_SGLANG_MODEL_PATH"}
GPUS_VARIABLE = {"vllm": "SM_VLLM_TENSOR_PARALLEL_SIZE", "sglang": "SM_SGLANG_TP_SIZE"}


def _name(model_short_name: str, runtime: str) -> str:
    return model_short_name.lower().replace(".", "-").replace("deepseek-", "") + f"-{runtime}"


@pytest.fixture(scope="module")
def catalog_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    config = default_config()
    deployments: list[dict[str, Any]] = [
        {"name": _name(model.short_name, runtime), "model": {"id": model.repo_id}, "runtime": runtime}
        for model in MODELS.values()
        for runtime in SERVER_RUNTIMES
    ]
    deployments.append(
        {
            "name": "cu13-instances",
            "model": {"id": "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"},
            "runtime": "vllm",
            "vllm": {"version": "0.29"},
            "scaling": {"mode": "instances"},
        }
    )
    config["deployments"] = deployments
    return synthesize(config, Path(tmp_path_factory.mktemp("server-runtimes")))


@pytest.fixture(scope="module")
def example_apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synthesized]:
    return {
        runtime: synthesize(
            yaml.safe_load((ROOT / "config" / f"{runtime}.yaml").read_text()),
            Path(tmp_path_factory.mktemp(f"example-{runtime}")),
        )
        for runtime in SERVER_RUNTIMES
    }


def test_every_catalog_model_runs_on_its_recommended_instance_with_each_server(catalog_app: Synthesized) -> None:
    for model in MODELS.values():
        for runtime in SERVER_RUNTIMES:
            template = catalog_app.template(f"TgiSageMaker-{_name(model.short_name, runtime)}")
            template.has_resource_properties(
                "AWS::SageMaker::EndpointConfig",
                {"ProductionVariants": [{"InstanceType": model.recommended_instance}]},
            )
            (sagemaker_model,) = template.find_resources("AWS::SageMaker::Model").values()
            properties = sagemaker_model["Properties"]
            environment = properties["PrimaryContainer"]["Environment"]
            assert environment[MODEL_VARIABLE[runtime]] == "/opt/ml/model"
            assert int(environment[GPUS_VARIABLE[runtime]]) >= 1
            assert properties["EnableNetworkIsolation"] is True
            assert f"huggingface-{runtime}" in str(properties["PrimaryContainer"]["Image"])


def test_a_cuda_13_image_gets_the_ami_with_its_driver_and_the_others_none(
    catalog_app: Synthesized, example_apps: dict[str, Synthesized]
) -> None:
    def amis(template: dict[str, Any]) -> list[Any]:
        return [
            variant.get("InferenceAmiVersion")
            for resource in template["Resources"].values()
            if resource["Type"] == "AWS::SageMaker::EndpointConfig"
            for variant in resource["Properties"]["ProductionVariants"]
        ]

    assert amis(catalog_app.raw("TgiSageMaker-cu13-instances")) == [CUDA_13_INFERENCE_AMI]
    assert amis(example_apps["vllm"].raw("TgiSageMaker-r1-llama-8b-vllm-cu13")) == [CUDA_13_INFERENCE_AMI]
    assert amis(example_apps["vllm"].raw("TgiSageMaker-r1-qwen-14b-vllm")) == [None]
    assert amis(catalog_app.raw("TgiSageMaker-r1-distill-llama-8b-sglang")) == [None]


def test_cfn_lint_is_clean(catalog_app: Synthesized, example_apps: dict[str, Synthesized]) -> None:
    templates = [
        path for synth in (catalog_app, *example_apps.values()) for path in sorted(synth.outdir.glob("*.template.json"))
    ]
    assert len(templates) == 2 * len(MODELS) + 1 + 3
    result = cfn_lint(templates)
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_is_clean_on_each_assembly(catalog_app: Synthesized, example_apps: dict[str, Synthesized]) -> None:
    folders = [catalog_app.outdir, *(synth.outdir for synth in example_apps.values())]
    scan = checkov(folders)
    assert scan.clean, str(scan)
    assert scan.assemblies == sorted(folders)


@pytest.mark.parametrize("generation", GENERATIONS)
@pytest.mark.parametrize("runtime", SERVER_RUNTIMES)
def test_the_example_servers_start_from_their_templates_environment_on_either_entrypoint(
    example_apps: dict[str, Synthesized], runtime: str, generation: str
) -> None:
    # What runs is the Model's environment in the template: config/vllm.yaml's enable-prefix-caching and
    # config/sglang.yaml's enable-metrics must reach the server as bare flags, with no stray word
    flags, prefix = {"vllm": (VLLM_FLAGS["0.17.0"], "SM_VLLM_"), "sglang": (SGLANG_FLAGS["0.5.8"], "SM_SGLANG_")}[
        runtime
    ]
    first = yaml.safe_load((ROOT / "config" / f"{runtime}.yaml").read_text())["deployments"][0]["name"]
    template = example_apps[runtime].template(f"TgiSageMaker-{first}")
    (model,) = template.find_resources("AWS::SageMaker::Model").values()
    environment = model["Properties"]["PrimaryContainer"]["Environment"]
    server = start(flags, GENERATIONS[generation], prefix, environment, vllm=runtime == "vllm")
    if runtime == "vllm":
        assert server.enable_prefix_caching is True and server.model_tag is None
    else:
        assert server.enable_metrics is True
