"""SageMaker GPU instance types that can host TGI.

GPU counts and GPU memory are from ../shared/docs/FACTS.md (AWS instance pages). vCPUs, host memory and local
NVMe sizes are from the EC2 instance-type pages of the same families; every GPU type here has local NVMe,
which is why endpoint configs must not set ``KmsKeyId`` or ``VolumeSizeInGB`` for them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

GIB = 1024**3
# ml.<family>.<size>: families such as g5, g6e, p4de, p5en, inf2 or p6-b200; sizes medium, large, xlarge, 12xlarge.
INSTANCE_TYPE_FORM = re.compile(r"^ml\.[a-z][a-z0-9]*(-[a-z0-9]+)*\.([1-9][0-9]*xlarge|xlarge|large|medium)$")


@dataclass(frozen=True)
class InstanceFigures:
    """The figures of one SageMaker hosting instance type this catalog knows, as sizing needs them.

    Constructs take ``tgi_sagemaker.InstanceType`` (any name of the right form, or a token) and read these
    figures through it when the type is listed here.
    """

    name: str
    gpu: str
    gpu_count: int
    gpu_memory_gib: int
    vcpus: int
    memory_gib: int
    local_nvme_gb: int

    @property
    def total_gpu_memory_bytes(self) -> int:
        return self.gpu_count * self.gpu_memory_gib * GIB

    @property
    def has_local_nvme(self) -> bool:
        return self.local_nvme_gb > 0


def _family(
    family: str, gpu: str, gpu_memory_gib: int, sizes: list[tuple[str, int, int, int, int]]
) -> list[InstanceFigures]:
    return [
        InstanceFigures(f"ml.{family}.{size}", gpu, gpus, gpu_memory_gib, vcpus, memory, nvme)
        for size, gpus, vcpus, memory, nvme in sizes
    ]


# (size, GPUs, vCPUs, host memory GiB, local NVMe GB)
_G5_SIZES = [
    ("xlarge", 1, 4, 16, 250),
    ("2xlarge", 1, 8, 32, 450),
    ("4xlarge", 1, 16, 64, 600),
    ("8xlarge", 1, 32, 128, 900),
    ("16xlarge", 1, 64, 256, 1900),
    ("12xlarge", 4, 48, 192, 3800),
    ("24xlarge", 4, 96, 384, 3800),
    ("48xlarge", 8, 192, 768, 7600),
]
_G6_SIZES = [
    ("xlarge", 1, 4, 16, 250),
    ("2xlarge", 1, 8, 32, 450),
    ("4xlarge", 1, 16, 64, 600),
    ("8xlarge", 1, 32, 128, 900),
    ("16xlarge", 1, 64, 256, 1880),
    ("12xlarge", 4, 48, 192, 3760),
    ("24xlarge", 4, 96, 384, 3760),
    ("48xlarge", 8, 192, 768, 7520),
]
_G6E_SIZES = [
    ("xlarge", 1, 4, 32, 250),
    ("2xlarge", 1, 8, 64, 450),
    ("4xlarge", 1, 16, 128, 600),
    ("8xlarge", 1, 32, 256, 900),
    ("16xlarge", 1, 64, 512, 1900),
    ("12xlarge", 4, 48, 384, 3800),
    ("24xlarge", 4, 96, 768, 3800),
    ("48xlarge", 8, 192, 1536, 7600),
]

INSTANCE_TYPES: dict[str, InstanceFigures] = {
    it.name: it
    for it in [
        *_family("g5", "NVIDIA A10G", 24, _G5_SIZES),
        *_family("g6", "NVIDIA L4", 24, _G6_SIZES),
        *_family("g6e", "NVIDIA L40S", 48, _G6E_SIZES),
        *_family("p4d", "NVIDIA A100", 40, [("24xlarge", 8, 96, 1152, 8000)]),
        *_family("p4de", "NVIDIA A100", 80, [("24xlarge", 8, 96, 1152, 8000)]),
        *_family("p5", "NVIDIA H100", 80, [("48xlarge", 8, 192, 2048, 30720)]),
        *_family("p5e", "NVIDIA H200", 141, [("48xlarge", 8, 192, 2048, 30720)]),
        *_family("p5en", "NVIDIA H200", 141, [("48xlarge", 8, 192, 2048, 30720)]),
    ]
}


def find_instance_type(name: str) -> InstanceFigures | None:
    return INSTANCE_TYPES.get(name)


def similar_instance_types(name: str, limit: int = 3) -> list[str]:
    """Closest known names, so an error can say what was probably meant (``g5.2xlarge`` -> ``ml.g5.2xlarge``)."""
    candidate = name if name.startswith("ml.") else f"ml.{name}"
    return difflib.get_close_matches(candidate, list(INSTANCE_TYPES), n=limit, cutoff=0.6)


def name_form_problem(name: str) -> str | None:
    """What is wrong with the form of the name ``name`` (and what was probably meant); None for a good form.
    Plain text only: :func:`tgi_sagemaker.instance_type.form_problem` lets CDK tokens through first."""
    if INSTANCE_TYPE_FORM.match(name):
        return None
    close = similar_instance_types(name)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ", e.g. 'ml.g6e.xlarge'"
    return f"is not a SageMaker hosting instance type: use the form 'ml.<family>.<size>'{hint}"
