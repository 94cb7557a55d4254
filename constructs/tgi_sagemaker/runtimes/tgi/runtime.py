"""TGI behind the runtime seam: the Hugging Face Text Generation Inference container as SageMaker hosts it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from tgi_sagemaker.runtimes.runtime import ModelLocation, ServingRuntime, StreamFormat
from tgi_sagemaker.runtimes.tgi.environment import (
    MODEL_LOCATION_VARIABLES,
    SM_NUM_GPUS,
    model_location_environment,
    settings_environment,
)
from tgi_sagemaker.runtimes.tgi.image import TgiImage, default_tgi_version

if TYPE_CHECKING:
    from tgi_sagemaker.catalog.models import CatalogModel
    from tgi_sagemaker.catalog.sizing import TokenLimits
    from tgi_sagemaker.config.spec import DeploymentSpec


@dataclass(frozen=True)
class Tgi(ServingRuntime):
    """TGI at one version, e.g. ``Tgi.of("3.3")``.

    :param image: the TGI image. Default: the newest supported version.
    """

    gpus_per_copy_variable = SM_NUM_GPUS
    model_variables = MODEL_LOCATION_VARIABLES
    # TGI serves OpenAI chat completions beside its own generate stream; chat applies the model's chat template.
    stream_formats: ClassVar[tuple[StreamFormat, ...]] = ("messages", "generate")
    image: TgiImage = field(default_factory=lambda: TgiImage(default_tgi_version()))

    @classmethod
    def of(cls, version: str) -> Tgi:
        """A full version (``3.3.6``) or a minor alias (``3.3``, its newest patch)."""
        return cls(image=TgiImage.of(version))

    def model_environment(self, location: ModelLocation) -> dict[str, str]:
        return model_location_environment(location)

    def settings_environment(
        self, spec: DeploymentSpec, *, num_gpus: int, limits: TokenLimits, catalog_model: CatalogModel | None
    ) -> dict[str, str]:
        return settings_environment(spec, num_gpus=num_gpus, limits=limits, catalog_model=catalog_model)
