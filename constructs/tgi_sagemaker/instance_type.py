"""A SageMaker hosting instance type as a value: any name of the right form, or a token resolved at deploy.

The catalog (``catalog/instance_types.py``) lists the GPU types this library has figures for. The constructs do
not stop at that list: a platform team can serve on a family released after this library, and the constructs then
skip the checks that need figures (GPUs, host memory, local NVMe) and leave the type to SageMaker.
"""

from __future__ import annotations

import aws_cdk as cdk

from tgi_sagemaker.catalog.instance_types import InstanceFigures, find_instance_type, name_form_problem


class InstanceType:
    """The instance type of an endpoint variant, looked up in the catalog once.

    ``InstanceType.of("ml.g6e.12xlarge")``, or of a token (``CfnParameter.value_as_string``). ``figures`` are the
    catalog's for a type it lists; None for a token or a type it does not list, for which the constructs check
    nothing that needs them.

    :param gpu_count: the GPUs of an instance of a type the catalog does not list (or of a token): the GPU checks
        use it, and an instance endpoint's GPU utilization, which SageMaker sums over the GPUs, is divided by it.
        Default: the catalog's count; unknown for an unlisted type.
    :raises ValueError: the name is not of the form ``ml.<family>.<size>``; a ``gpu_count`` below 1, or other than
        the catalog's for a type it lists.
    """

    def __init__(self, name: str, *, gpu_count: int | None = None) -> None:
        problem = form_problem(name)
        if problem is not None:
            raise ValueError(f"InstanceType: {name!r} {problem}")
        self.name = name
        self.figures: InstanceFigures | None = None if self.is_unresolved else find_instance_type(name)
        if gpu_count is not None and gpu_count < 1:
            raise ValueError(f"InstanceType {name!r}: gpu_count={gpu_count} must be 1 or more")
        if gpu_count is not None and self.figures is not None and gpu_count != self.figures.gpu_count:
            raise ValueError(
                f"InstanceType {name!r}: gpu_count={gpu_count}, but the catalog lists {self.figures.gpu_count} GPUs "
                "for it: leave gpu_count out"
            )
        self._declared_gpu_count = gpu_count

    @classmethod
    def of(cls, name: str | InstanceType, *, gpu_count: int | None = None) -> InstanceType:
        """The instance type named ``name`` (an ``InstanceType`` is returned as it is)."""
        if isinstance(name, InstanceType):
            if gpu_count is not None and gpu_count != name.gpu_count:
                raise ValueError(f"InstanceType.of({name!r}, gpu_count={gpu_count}): it has {name.gpu_count}")
            return name
        return cls(name, gpu_count=gpu_count)

    @property
    def is_unresolved(self) -> bool:
        """A token: the name is known at deploy time only."""
        return cdk.Token.is_unresolved(self.name)

    @property
    def gpu_count(self) -> int | None:
        """GPUs an instance has: the catalog's, or as declared; None when neither says."""
        return self.figures.gpu_count if self.figures is not None else self._declared_gpu_count

    @property
    def memory_mb(self) -> int | None:
        """Host memory of an instance in MB (MiB, as SageMaker's ``MinMemoryRequiredInMb`` counts them)."""
        return self.figures.memory_gib * 1024 if self.figures is not None else None

    @property
    def has_local_nvme(self) -> bool | None:
        """Whether instances have local NVMe storage (then an endpoint config takes no KMS key); None: unknown."""
        return self.figures.has_local_nvme if self.figures is not None else None

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"InstanceType.of({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InstanceType) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


def form_problem(name: str) -> str | None:
    """What is wrong with the form of ``name`` (and what was probably meant); None for a good form or a token."""
    if cdk.Token.is_unresolved(name):
        return None
    return name_form_problem(name)
