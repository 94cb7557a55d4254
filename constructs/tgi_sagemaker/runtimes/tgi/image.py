"""The Hugging Face TGI deep learning container's SageMaker images (``tgi_images.json``, from sagemaker-core's
``huggingface-llm`` images: ``constructs/tools/refresh_images.py tgi``)."""

from __future__ import annotations

from tgi_sagemaker.runtimes.container_image import (
    ContainerImage,
    ImageTable,
    UnknownImageVersionError,
    UnsupportedRegionError,
)

TGI_IMAGES = ImageTable.load(
    "tgi_sagemaker.runtimes.tgi", "tgi_images.json", container="TGI", mapping_id="TgiImageRegistries"
)

# The names code written before the runtime seam catches.
UnknownTgiVersionError = UnknownImageVersionError
__all__ = [
    "TGI_IMAGES",
    "TgiImage",
    "UnknownTgiVersionError",
    "UnsupportedRegionError",
    "default_tgi_version",
    "supported_regions",
]


class TgiImage(ContainerImage):
    """A TGI DLC version, e.g. ``TgiImage.of("3.3.6")`` or ``TgiImage.of("3.3")`` (the newest 3.3 patch)."""

    table = TGI_IMAGES


def default_tgi_version() -> str:
    return TGI_IMAGES.default_version


def supported_regions() -> list[str]:
    return TGI_IMAGES.regions
