"""TGI behind the runtime seam: where the model is, what the settings become, what a client can stream."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

from helpers import ROOT, config_with, default_config, synthesize
from tgi_sagemaker import load_app
from tgi_sagemaker.cli.client.payloads import APIS, Sampling, parse_event, request_body
from tgi_sagemaker.cli.plan import describe_deployment
from tgi_sagemaker.runtimes.runtime import MODEL_DIRECTORY, HubModel, ModelDirectory, ServingRuntime, StreamFormat
from tgi_sagemaker.runtimes.tgi.image import TGI_IMAGES, TgiImage
from tgi_sagemaker.runtimes.tgi.runtime import Tgi


def test_s3_weights_are_loaded_from_the_directory_sagemaker_fills() -> None:
    assert Tgi().model_environment(ModelDirectory()) == {"HF_MODEL_ID": MODEL_DIRECTORY}
    assert MODEL_DIRECTORY == "/opt/ml/model"


def test_hub_weights_are_named_by_repo_revision_and_token_when_given() -> None:
    tgi = Tgi()
    assert tgi.model_environment(HubModel("deepseek-ai/DeepSeek-R1")) == {"HF_MODEL_ID": "deepseek-ai/DeepSeek-R1"}
    assert tgi.model_environment(HubModel("a/b", revision="v1", token="{{resolve:secretsmanager:t}}")) == {
        "HF_MODEL_ID": "a/b",
        "HF_MODEL_REVISION": "v1",
        "HF_TOKEN": "{{resolve:secretsmanager:t}}",
    }


def test_the_model_variables_are_exactly_those_a_location_can_set() -> None:
    """A model refuses ``model_variables`` in its environment: one missing there could be overwritten unseen."""
    tgi = Tgi()
    set_by_locations = set(tgi.model_environment(ModelDirectory())) | set(
        tgi.model_environment(HubModel("a/b", revision="main", token="t"))
    )
    assert set_by_locations == tgi.model_variables


def test_the_settings_set_the_gpus_per_copy_through_the_runtimes_variable() -> None:
    (deployment,) = load_app(default_config()).deployments
    assert isinstance(deployment.runtime, Tgi)
    assert deployment.settings_environment[Tgi.gpus_per_copy_variable] == str(deployment.num_gpus)
    assert Tgi.gpus_per_copy_variable == "SM_NUM_GPUS"


def test_the_plan_shows_the_environment_the_model_deploys(tmp_path: Path) -> None:
    """The plan and the stack ask the same runtime: a Hub revision (which the plan once left out) shows in both."""
    config = config_with({"weights": {"source": "hub"}, "model.revision": "4f0e1c7" * 5 + "ab123"})
    (deployment,) = load_app(config).deployments
    (model,) = synthesize(config, tmp_path).template().find_resources("AWS::SageMaker::Model").values()
    deployed = model["Properties"]["PrimaryContainer"]["Environment"]
    assert deployed["HF_MODEL_REVISION"] == "4f0e1c7" * 5 + "ab123"
    assert "    env        " + " ".join(f"{k}={v}" for k, v in sorted(deployed.items())) in describe_deployment(
        deployment
    )


def test_a_version_or_its_minor_alias_names_one_image() -> None:
    assert Tgi.of("3.3") == Tgi(image=TgiImage("3.3.6")) == Tgi()
    assert Tgi().image.version == TGI_IMAGES.default_version
    assert Tgi.of("3.0").container_name == "TGI"


def test_the_client_speaks_every_stream_tgi_serves_chat_first() -> None:
    assert APIS[: len(Tgi.stream_formats)] == Tgi.stream_formats  # TGI's first: the CLI's default is its default
    assert Tgi.stream_formats[0] == "messages"
    for stream_format in Tgi.stream_formats:
        body = request_body(stream_format, "hi", Sampling(max_new_tokens=4))
        assert body["stream"] is True
        assert parse_event(stream_format, "[DONE]").done


def test_the_client_reads_stream_formats_without_loading_aws_cdk() -> None:
    """``invoke`` and ``bench`` start without jsii; the payloads now read the runtime's stream formats."""
    code = "import sys, tgi_sagemaker.cli.client.payloads; print('aws_cdk' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "constructs")},
    )
    assert result.stdout.strip() == "False"


def test_a_runtime_that_forgets_a_class_attribute_is_refused_when_defined() -> None:
    with pytest.raises(TypeError, match="Incomplete must set gpus_per_copy_variable, model_variables"):

        class Incomplete(ServingRuntime):
            stream_formats: ClassVar[tuple[StreamFormat, ...]] = ("messages",)

            def model_environment(self, location: Any) -> dict[str, str]:
                return {}

            def settings_environment(self, spec: Any, **kwargs: Any) -> dict[str, str]:
                return {}
