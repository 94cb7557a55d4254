"""The Hugging Face SGLang container's SageMaker images (``sglang_images.json``, from sagemaker-core's
``huggingface-sglang`` images: ``constructs/tools/refresh_images.py sglang``) and its server's flags
(``sglang_flags.json``: ``constructs/tools/refresh_flags.py sglang``)."""

from __future__ import annotations

from tgi_sagemaker.runtimes.container_image import ContainerImage, ImageTable
from tgi_sagemaker.runtimes.server_flags import FlagList

SGLANG_IMAGES = ImageTable.load(
    "tgi_sagemaker.runtimes.sglang", "sglang_images.json", container="SGLang", mapping_id="SglangImageRegistries"
)
SGLANG_FLAGS = FlagList.load("tgi_sagemaker.runtimes.sglang", "sglang_flags.json")
"""The flags of each SGLang version whose source was recorded; the image's tag starts with the SGLang version."""


class SglangImage(ContainerImage):
    """A Hugging Face SGLang DLC version, e.g. ``SglangImage.of("0.5.8")`` or ``SglangImage.of("0.5")``."""

    table = SGLANG_IMAGES


def default_sglang_version() -> str:
    return SGLANG_IMAGES.default_version
