"""A serving container's SageMaker images: a table per container, and the image of one version.

A table (JSON beside its runtime) holds the repository, the tag of each version, minor aliases and each region's
registry account and domain. The tables are generated from sagemaker-core by ``constructs/tools/refresh_images.py``
and checked against ``sagemaker.core.image_uris.retrieve`` by the tests, so synthesis never needs sagemaker-core.
In a region-agnostic stack the registry account and domain come from a CfnMapping keyed by ``AWS::Region``;
in a region-specific stack they are literals.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, ClassVar, Self

if TYPE_CHECKING:  # aws_cdk loads only when a stack binds the image: plan and catalog start without jsii
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam
    from constructs import Construct


class UnknownImageVersionError(ValueError):
    pass


class UnsupportedRegionError(ValueError):
    pass


@dataclass(frozen=True)
class ImageTable:
    """Every SageMaker image of one container."""

    container: str
    """How people name the container, e.g. ``TGI``."""
    mapping_id: str
    """The id of the stack's CfnMapping of registries (region-agnostic stacks)."""
    repository: str
    default_version: str
    tags: Mapping[str, str]
    """Image tag of each version, oldest first."""
    aliases: Mapping[str, str]
    """Minor version -> its newest patch, e.g. ``3.3`` -> ``3.3.6``."""
    registries: Mapping[str, Mapping[str, str]]
    """Region -> ``{"account": ..., "domain": ...}`` of the registry that publishes the images there."""

    @classmethod
    def load(cls, package: str, file_name: str, *, container: str, mapping_id: str) -> ImageTable:
        raw = json.loads((resources.files(package) / file_name).read_text())
        return cls(
            container=container,
            mapping_id=mapping_id,
            repository=raw["repository"],
            default_version=raw["default_version"],
            tags=raw["versions"],
            aliases=raw["aliases"],
            registries=raw["registries"],
        )

    @property
    def versions(self) -> list[str]:
        return list(self.tags)

    @property
    def regions(self) -> list[str]:
        return list(self.registries)

    def full_version(self, version: str) -> str:
        """A full version (``3.3.6``) as it is, a minor alias (``3.3``) as its newest patch."""
        resolved = self.aliases.get(version, version)
        if resolved not in self.tags:
            raise UnknownImageVersionError(
                f"{self.container} version {version!r} has no SageMaker image; use one of {', '.join(self.tags)}"
            )
        return resolved

    def registry(self, region: str) -> Mapping[str, str]:
        if region not in self.registries:
            raise UnsupportedRegionError(
                f"region {region!r} has no {self.container} image; SageMaker publishes it in "
                f"{', '.join(sorted(self.registries))}"
            )
        return self.registries[region]


@dataclass(frozen=True)
class ContainerImage:
    """One version of a container; ``uri``/``bind`` turn it into an image URI for a region or a stack.

    A container's image class sets ``table``; ``of`` accepts a full version or a minor alias.
    """

    table: ClassVar[ImageTable]
    version: str

    def __post_init__(self) -> None:
        if self.table.full_version(self.version) != self.version:  # here, not as a KeyError at .tag
            raise UnknownImageVersionError(
                f"{self.table.container} version {self.version!r} is a minor alias: use "
                f"{type(self).__name__}.of({self.version!r}) for its newest patch"
            )

    @classmethod
    def of(cls, version: str) -> Self:
        return cls(cls.table.full_version(version))

    @property
    def repository(self) -> str:
        return self.table.repository

    @property
    def tag(self) -> str:
        return self.table.tags[self.version]

    @property
    def cuda_version(self) -> tuple[int, int] | None:
        """The CUDA version the image is built with, from its tag (``-cu124-`` -> (12, 4)); None if not named."""
        match = re.search(r"-cu(\d+)(\d)-", self.tag)
        return (int(match[1]), int(match[2])) if match else None

    def uri(self, region: str) -> str:
        registry = self.table.registry(region)
        return f"{registry['account']}.dkr.ecr.{region}.{registry['domain']}/{self.repository}:{self.tag}"

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> str:
        """The image URI as the stack of ``scope`` must render it, with pull rights granted to ``grantee``."""
        import aws_cdk as cdk
        from aws_cdk import aws_iam as iam

        stack = cdk.Stack.of(scope)
        account, domain = self._registry_account_and_domain(stack)
        repository_arn = f"arn:{stack.partition}:ecr:{stack.region}:{account}:repository/{self.repository}"
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            resource_arns=[repository_arn],
        )
        # GetAuthorizationToken is account-wide: IAM offers no resource to scope it to.
        iam.Grant.add_to_principal(grantee=grantee, actions=["ecr:GetAuthorizationToken"], resource_arns=["*"])
        return f"{account}.dkr.ecr.{stack.region}.{domain}/{self.repository}:{self.tag}"

    def _registry_account_and_domain(self, stack: cdk.Stack) -> tuple[str, str]:
        import aws_cdk as cdk

        if not cdk.Token.is_unresolved(stack.region):
            registry = self.table.registry(stack.region)
            return registry["account"], registry["domain"]
        mapping = stack.node.try_find_child(self.table.mapping_id)
        if mapping is None:
            registries = {region: dict(registry) for region, registry in self.table.registries.items()}
            mapping = cdk.CfnMapping(stack, self.table.mapping_id, mapping=registries)
        assert isinstance(mapping, cdk.CfnMapping)
        return mapping.find_in_map(cdk.Aws.REGION, "account"), mapping.find_in_map(cdk.Aws.REGION, "domain")
