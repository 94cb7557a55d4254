"""rules/network.py: the endpoint's VPC, its zones and its egress."""

from __future__ import annotations

from rule_cases import Case, one_problem_test

CASES: list[Case] = [
    (
        "Hub weights without egress",
        {"weights.source": "hub", "network.egress": False},
        {},
        "network.egress",
        False,
        "network.egress to true",
    ),
    ("S3 weights with egress", {"network.egress": True}, {}, "network.egress", True, "NAT gateway would only add cost"),
    (
        "existing VPC without subnets",
        {"network.vpc": "existing", "network.vpc_id": "vpc-0123456789abcdef0"},
        {},
        "network.subnet_ids",
        [],
        "private subnet ids",
    ),
    (
        "existing ids with a new VPC",
        {"network.subnet_ids": ["subnet-0123456789abcdef0"]},
        {},
        "network.subnet_ids",
        ["subnet-0123456789abcdef0"],
        "network.vpc to 'existing'",
    ),
    (
        "region without pinned AZs",
        {},
        {"environment": {"region": "us-east-1"}},
        "network.availability_zones",
        [],
        "'us-east-1a'",
    ),
    (
        "AZ of another region",
        {"network.availability_zones": ["eu-west-1a"]},
        {"environment": {"region": "us-east-1"}},
        "network.availability_zones",
        ["eu-west-1a"],
        "zones of us-east-1",
    ),
    (
        "pinned AZs in a region-agnostic environment",
        {"network.availability_zones": ["eu-west-1a"]},
        {},
        "network.availability_zones",
        ["eu-west-1a"],
        "set environment.region",
    ),
    (
        "S3 prefix list with internet egress",
        {"weights.source": "hub", "network.s3_prefix_list_id": "pl-63a5400a"},
        {},
        "network.s3_prefix_list_id",
        "pl-63a5400a",
        "remove network.s3_prefix_list_id",
    ),
    (
        "S3 prefix list without a security group to put it in",
        {"network.vpc": "none", "network.s3_prefix_list_id": "pl-63a5400a"},
        {},
        "network.s3_prefix_list_id",
        "pl-63a5400a",
        "let the stack create the security group",
    ),
    (
        "a malformed S3 prefix list id",
        {"network.s3_prefix_list_id": "com.amazonaws.us-east-1.s3"},
        {},
        "network.s3_prefix_list_id",
        "com.amazonaws.us-east-1.s3",
        "describe-managed-prefix-lists",
    ),
]


test_each_invalid_spec_gives_one_problem_naming_field_value_and_fix = one_problem_test(CASES)
