"""``network``: the endpoint's VPC (new, existing or none), its zones and its egress."""

from __future__ import annotations

from tgi_sagemaker.config.errors import Problems
from tgi_sagemaker.config.spec import DeploymentSpec


def resolve_egress(spec: DeploymentSpec, problems: Problems) -> bool:
    """Internet egress of the container: needed by hub weights, useless (and billed) with s3 weights."""
    hub = spec.weights.source == "hub"
    egress = spec.network.egress if spec.network.egress is not None else hub
    prefix_list = spec.network.s3_prefix_list_id
    if prefix_list is not None and egress:
        problems.add(
            "network.s3_prefix_list_id",
            prefix_list,
            "limits the endpoint's egress to S3, but this deployment has internet egress (weights.source 'hub' or "
            "network.egress)",
            "remove network.s3_prefix_list_id, or use weights.source 's3' without network.egress",
        )
    elif prefix_list is not None and (spec.network.vpc == "none" or spec.network.security_group_ids):
        problems.add(
            "network.s3_prefix_list_id",
            prefix_list,
            "only used for the security group the stack creates (there is none with network.vpc 'none' or "
            "network.security_group_ids)",
            "remove network.s3_prefix_list_id, or let the stack create the security group",
        )
    if hub and not egress:
        problems.add(
            "network.egress",
            False,
            "with weights.source 'hub' the container downloads the model from the Hub",
            "set network.egress to true, or use weights.source 's3' to copy the weights once into S3",
        )
    if not hub and egress:
        problems.add(
            "network.egress",
            True,
            "with weights.source 's3' the model runs with network isolation and never uses internet egress",
            "remove network.egress (a NAT gateway would only add cost)",
        )
    return egress


def check_network(spec: DeploymentSpec, region: str | None, problems: Problems) -> None:
    network = spec.network
    if network.vpc == "existing":
        if not 1 <= len(network.subnet_ids) <= 16:
            problems.add(
                "network.subnet_ids",
                network.subnet_ids,
                "an existing VPC needs 1 to 16 subnets for the endpoint",
                "list private subnet ids of the VPC (in at least two AZs for resilience)",
            )
        if len(network.security_group_ids) > 5:
            problems.add(
                "network.security_group_ids",
                network.security_group_ids,
                "SageMaker takes at most 5",
                "list at most 5 security group ids",
            )
        if not network.security_group_ids and network.vpc_id is None:
            problems.add(
                "network.vpc_id",
                None,
                "needed to create the endpoint's security group",
                "set network.vpc_id, or list network.security_group_ids to use",
            )
    else:
        for name in ("vpc_id", "subnet_ids", "security_group_ids"):
            value = getattr(network, name)
            if value:
                problems.add(
                    f"network.{name}",
                    value,
                    f"only used with network.vpc 'existing' (it is '{network.vpc}')",
                    f"set network.vpc to 'existing' or remove network.{name}",
                )
    if network.vpc == "new" and region is None and network.availability_zones:
        problems.add(
            "network.availability_zones",
            network.availability_zones,
            "pinned zones need a region-specific environment (this one is region-agnostic)",
            "set environment.region (and account) to the zones' region, or drop network.availability_zones",
        )
    if network.vpc == "new" and region is not None:
        if not network.availability_zones:
            problems.add(
                "network.availability_zones",
                [],
                f"environment.region is '{region}': a new VPC would look up its AZs",
                f"pin them, e.g. ['{region}a', '{region}b']",
            )
        wrong = [az for az in network.availability_zones if not az.startswith(region)]
        if wrong:
            problems.add(
                "network.availability_zones",
                wrong,
                f"not zones of region '{region}'",
                f"use zones of {region}, e.g. '{region}a'",
            )
