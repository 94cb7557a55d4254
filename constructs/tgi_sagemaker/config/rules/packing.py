"""Packing: where the copies of several inference components land on a shared endpoint's instances.

SageMaker places a copy on one instance that has the GPUs (``NumberOfAcceleratorDevicesRequired``) and the host
memory (``MinMemoryRequiredInMb``) it asks for; a copy never spans instances. This module places copies the same
way, largest first (first-fit decreasing, by GPUs then memory), so the config can say at synth whether the models'
minimum copies fit the minimum instances and their maximum copies the maximum instances. With GPU counts that
divide each other and the instance's (1, 2, 4, 8: every shardable count), first-fit decreasing by GPUs is exact;
memory, the second dimension, is checked in the same placement (a placement it refuses may exist in rare mixes of
large and small memory reservations: the fix it names is then a safe one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tgi_sagemaker.catalog.instance_types import InstanceFigures
from tgi_sagemaker.catalog.models import KvGeometry
from tgi_sagemaker.catalog.sizing import gpu_counts, weights_fit


@dataclass(frozen=True)
class ComponentDemand:
    """What one component's copy asks of an instance, and how many copies it keeps and may reach."""

    name: str
    gpus_per_copy: int
    memory_mb_per_copy: int
    min_copies: int
    max_copies: int


@dataclass
class InstanceLoad:
    """One instance with the copies placed on it so far."""

    gpus_free: int
    memory_mb_free: int
    copies: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Packing:
    """Copies placed on ``instances`` (one ``InstanceLoad`` each), and the copies of each component that found no
    room (absent when all did)."""

    instances: tuple[InstanceLoad, ...]
    unplaced: Mapping[str, int]

    @property
    def fits(self) -> bool:
        return not self.unplaced

    @property
    def instances_used(self) -> int:
        return sum(1 for load in self.instances if load.copies)


def instance_memory_mb(instance: InstanceFigures) -> int:
    return instance.memory_gib * 1024


def pack(
    demands: Sequence[ComponentDemand], copies: Mapping[str, int], instance: InstanceFigures, instance_count: int
) -> Packing:
    """Place ``copies[name]`` copies of each component on ``instance_count`` instances, largest copies first."""
    loads = tuple(InstanceLoad(instance.gpu_count, instance_memory_mb(instance)) for _ in range(instance_count))
    unplaced: dict[str, int] = {}
    order = sorted(demands, key=lambda d: (d.gpus_per_copy, d.memory_mb_per_copy), reverse=True)
    for demand in order:
        for _ in range(copies.get(demand.name, 0)):
            load = next(
                (
                    load
                    for load in loads
                    if load.gpus_free >= demand.gpus_per_copy and load.memory_mb_free >= demand.memory_mb_per_copy
                ),
                None,
            )
            if load is None:
                unplaced[demand.name] = unplaced.get(demand.name, 0) + 1
                continue
            load.gpus_free -= demand.gpus_per_copy
            load.memory_mb_free -= demand.memory_mb_per_copy
            load.copies[demand.name] = load.copies.get(demand.name, 0) + 1
    return Packing(loads, unplaced)


def instances_needed(
    demands: Sequence[ComponentDemand], copies: Mapping[str, int], instance: InstanceFigures, most: int = 64
) -> int | None:
    """The fewest instances that hold ``copies`` (None: more than ``most``, or a copy fits no instance)."""
    for count in range(0, most + 1):
        if pack(demands, copies, instance, count).fits:
            return count
    return None


def copies_per_instance(demand: ComponentDemand, instance: InstanceFigures) -> int:
    """Copies of one component an empty instance holds, by GPUs and by host memory."""
    return min(instance.gpu_count // demand.gpus_per_copy, instance_memory_mb(instance) // demand.memory_mb_per_copy)


def fewest_gpus(weights_bytes: int | None, instance: InstanceFigures, attention: KvGeometry | None) -> int | None:
    """The fewest GPUs the model can be sharded over on this instance with its weights fitting; None if none.

    The default GPUs per copy on a shared endpoint: its GPUs are shared by every model's copies, so a copy takes
    no more than it needs (an own endpoint takes every GPU instead, ``sizing.default_num_gpus``, as it pays for
    them all).
    """
    for count in gpu_counts(instance, attention):
        if weights_bytes is None or weights_fit(weights_bytes, instance, count):
            return count
    return None
