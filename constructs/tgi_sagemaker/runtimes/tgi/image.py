"""The Hugging Face TGI deep learning container image, resolved per region.

Data: ``tgi_images.json`` beside this module, generated from sagemaker-core by
``constructs/tools/refresh_tgi_images.py``
and checked against ``sagemaker.core.image_uris.retrieve`` by the tests, so synthesis never needs sagemaker-core.
In a region-agnostic stack the registry account and domain come from a CfnMapping keyed by ``AWS::Region``;
in a region-specific stack they are literals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # aws_cdk loads only when a stack binds the image: plan and catalog start without jsii
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam
    from constructs import Construct

_MAPPING_ID = "TgiImageRegistries"


@dataclass(frozen=True)
class _ImageData:
    repository: str
    default_version: str
    tags: dict[str, str]
    aliases: dict[str, str]
    registries: dict[str, dict[str, str]]


@cache
def _image_data() -> _ImageData:
    raw = json.loads((resources.files("tgi_sagemaker.runtimes.tgi") / "tgi_images.json").read_text())
    return _ImageData(raw["repository"], raw["default_version"], raw["versions"], raw["aliases"], raw["registries"])


def supported_tgi_versions() -> list[str]:
    return list(_image_data().tags)


def tgi_version_aliases() -> dict[str, str]:
    return dict(_image_data().aliases)


def default_tgi_version() -> str:
    return _image_data().default_version


def supported_regions() -> list[str]:
    return list(_image_data().registries)


class UnknownTgiVersionError(ValueError):
    pass


class UnsupportedRegionError(ValueError):
    pass


@dataclass(frozen=True)
class TgiImage:
    """A TGI DLC version; ``uri``/``bind`` turn it into an image URI for a region or a stack."""

    version: str

    @classmethod
    def of(cls, version: str) -> TgiImage:
        """Accepts a full version (``3.3.6``) or a minor alias (``3.3`` -> newest patch)."""
        data = _image_data()
        resolved = data.aliases.get(version, version)
        if resolved not in data.tags:
            raise UnknownTgiVersionError(
                f"TGI version {version!r} has no SageMaker image; use one of {', '.join(data.tags)}"
            )
        return cls(resolved)

    @property
    def repository(self) -> str:
        return _image_data().repository

    @property
    def tag(self) -> str:
        return _image_data().tags[self.version]

    def uri(self, region: str) -> str:
        registry = _registry(region)
        return f"{registry['account']}.dkr.ecr.{region}.{registry['domain']}/{self.repository}:{self.tag}"

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> str:
        """The image URI as the stack of ``scope`` must render it, with pull rights granted to ``grantee``."""
        import aws_cdk as cdk
        from aws_cdk import aws_iam as iam

        stack = cdk.Stack.of(scope)
        account, domain = _registry_account_and_domain(stack)
        repository_arn = f"arn:{stack.partition}:ecr:{stack.region}:{account}:repository/{self.repository}"
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            resource_arns=[repository_arn],
        )
        # GetAuthorizationToken is account-wide: IAM offers no resource to scope it to.
        iam.Grant.add_to_principal(grantee=grantee, actions=["ecr:GetAuthorizationToken"], resource_arns=["*"])
        return f"{account}.dkr.ecr.{stack.region}.{domain}/{self.repository}:{self.tag}"


def _registry(region: str) -> dict[str, str]:
    registries = _image_data().registries
    if region not in registries:
        raise UnsupportedRegionError(
            f"region {region!r} has no TGI image; SageMaker publishes it in {', '.join(sorted(registries))}"
        )
    return registries[region]


def _registry_account_and_domain(stack: cdk.Stack) -> tuple[str, str]:
    import aws_cdk as cdk

    if not cdk.Token.is_unresolved(stack.region):
        registry = _registry(stack.region)
        return registry["account"], registry["domain"]
    mapping = stack.node.try_find_child(_MAPPING_ID)
    if mapping is None:
        mapping = cdk.CfnMapping(stack, _MAPPING_ID, mapping=_image_data().registries)
    assert isinstance(mapping, cdk.CfnMapping)
    return mapping.find_in_map(cdk.Aws.REGION, "account"), mapping.find_in_map(cdk.Aws.REGION, "domain")
