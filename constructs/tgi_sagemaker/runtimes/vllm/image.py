"""The Hugging Face vLLM container's SageMaker images (``vllm_images.json``, from sagemaker-core's
``huggingface-vllm`` images: ``constructs/tools/refresh_images.py vllm``) and its server's flags
(``vllm_flags.json``: ``constructs/tools/refresh_flags.py vllm``)."""

from __future__ import annotations

from tgi_sagemaker.runtimes.container_image import ContainerImage, ImageTable
from tgi_sagemaker.runtimes.server_flags import FlagList

VLLM_IMAGES = ImageTable.load(
    "tgi_sagemaker.runtimes.vllm", "vllm_images.json", container="vLLM", mapping_id="VllmImageRegistries"
)
VLLM_FLAGS = FlagList.load("tgi_sagemaker.runtimes.vllm", "vllm_flags.json")
"""The flags of each vLLM version whose source was recorded; the image's tag starts with the vLLM version."""


class VllmImage(ContainerImage):
    """A Hugging Face vLLM DLC version, e.g. ``VllmImage.of("0.17.0")`` or ``VllmImage.of("0.25")``."""

    table = VLLM_IMAGES


def default_vllm_version() -> str:
    return VLLM_IMAGES.default_version
