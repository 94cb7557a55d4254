"""CloudFormation as the rehearsal plays it: a stack's resources created, updated and deleted in dependency order
from the synthesized template, rolled back as CloudFormation rolls back, with custom resources driven through their
real protocol (an asynchronous invocation of the ServiceToken function with CloudFormation's request, and a
response PUT to a presigned ResponseURL).

Resources on the deploy-time path are real in the rehearsal: IAM roles and policies (enforced on every call),
the bucket and its policy (moto), Lambda functions and state machines (``lambda_service``, ``step_functions``),
custom resources, the VPC (moto, for CDK's default-security-group function), and the SageMaker model, whose
execution role must be able to list and download its S3 model data as SageMaker does before the container starts.
Everything else (endpoints, alarms, dashboards, subnets, ...) is recorded with a made-up physical id so that
references resolve: the rehearsal does not claim to have checked those.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from rehearsal.iam import AWS_MANAGED_POLICIES, Principal, Role
from rehearsal.intrinsics import NO_VALUE, Resolver, references
from rehearsal.lambda_service import FunctionSpec
from rehearsal.network import ACCOUNT, CFN_RESPONSE_HOST, REGION
from rehearsal.step_functions import StateMachine

if TYPE_CHECKING:
    from rehearsal.account import Account
    from rehearsal.assembly import StackArtifact

RESPONSE_LIMIT = 4096  # bytes: CloudFormation refuses a larger custom-resource response
RETAINED = ("Retain", "RetainExceptOnCreate")
CUSTOM = ("AWS::CloudFormation::CustomResource",)


class ResourceFailed(Exception):
    def __init__(self, reason: str, physical_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.physical_id = reason, physical_id
        self.properties: dict[str, Any] = {}


@dataclass
class Physical:
    type: str
    id: str
    properties: dict[str, Any]
    attributes: dict[str, Any] = field(default_factory=dict)
    rehearsed: bool = True


@dataclass(frozen=True)
class StackEvent:
    logical_id: str
    status: str
    reason: str = ""


@dataclass
class Leftover:
    """A resource CloudFormation leaves behind (DeletionPolicy Retain) when the stack or a failed create goes."""

    logical_id: str
    type: str
    id: str


def _random(length: int = 12) -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(length))


class Stack:
    def __init__(self, account: Account, artifact: StackArtifact, name: str | None = None) -> None:
        self.account = account
        self.artifact = artifact
        self.name = name or artifact.name
        self.id = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{self.name}/{uuid.uuid4()}"
        self.template: dict[str, Any] = {}
        self.resources: dict[str, Physical] = {}
        self.events: list[StackEvent] = []
        self.leftovers: list[Leftover] = []
        self.status = "REVIEW_IN_PROGRESS"
        # logical id or resource type -> why its create/update fails (a callable may act first, e.g. stop the Hub)
        self.failures: dict[str, str | Callable[[], str]] = {}
        self.model_data: dict[str, dict[str, bytes]] = {}  # SageMaker model -> what it downloaded from S3

    # --- operations ------------------------------------------------------------------------------------------
    def create(self) -> str:
        self.template = self.artifact.template
        self.status = "CREATE_IN_PROGRESS"
        created: list[str] = []
        for logical_id in self._order(self.template):
            try:
                self.resources[logical_id] = self._create(logical_id, self.template)
                created.append(logical_id)
                self._event(logical_id, "CREATE_COMPLETE")
            except ResourceFailed as failure:
                self._event(logical_id, "CREATE_FAILED", failure.reason)
                if failure.physical_id is not None:  # CloudFormation deletes what a failed create named
                    self.resources[logical_id] = Physical(
                        self._type(logical_id), failure.physical_id, failure.properties
                    )
                    created.append(logical_id)
                self.status = "ROLLBACK_IN_PROGRESS"
                self.status = (
                    "ROLLBACK_COMPLETE" if self._delete_all(created, on_create_failure=True) else ("ROLLBACK_FAILED")
                )
                return self.status
        self.status = "CREATE_COMPLETE"
        return self.status

    def update(self, artifact: StackArtifact) -> str:
        old_template, new_template = self.template, artifact.template
        self.status = "UPDATE_IN_PROGRESS"
        created: list[str] = []
        updated: list[tuple[str, Physical, Physical]] = []  # logical id, before, after
        self.template = new_template
        for logical_id in self._order(new_template):
            if logical_id not in old_template["Resources"]:
                try:
                    self.resources[logical_id] = self._create(logical_id, new_template)
                    created.append(logical_id)
                    continue
                except ResourceFailed as failure:
                    self._event(logical_id, "CREATE_FAILED", failure.reason)
                    return self._roll_back(old_template, created, updated)
            before = self.resources[logical_id]
            properties = self._properties(logical_id, new_template)
            if properties == before.properties:
                continue
            try:
                after = self._update(logical_id, before, properties)
            except ResourceFailed as failure:
                self._event(logical_id, "UPDATE_FAILED", failure.reason)
                if self._is_custom(logical_id):  # CloudFormation rolls the failed custom resource back too
                    updated.append((logical_id, before, before))
                return self._roll_back(old_template, created, updated)
            self.resources[logical_id] = after
            updated.append((logical_id, before, after))
            self._event(logical_id, "UPDATE_COMPLETE")
        self.status = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
        for logical_id, before, after in updated:  # replaced physical resources go once the update is complete
            if before.id != after.id:
                self._delete_physical(logical_id, before, old_template)
        removed = [lid for lid in reversed(self._order(old_template)) if lid not in new_template["Resources"]]
        self.template = old_template
        self._delete_all(removed)
        self.template = new_template
        self.status = "UPDATE_COMPLETE"
        return self.status

    def delete(self) -> str:
        self.status = "DELETE_IN_PROGRESS"
        ok = self._delete_all([lid for lid in self._order(self.template) if lid in self.resources])
        self.status = "DELETE_COMPLETE" if ok else "DELETE_FAILED"
        return self.status

    def _roll_back(
        self, old_template: dict[str, Any], created: list[str], updated: list[tuple[str, Physical, Physical]]
    ) -> str:
        new_template = self.template
        self.status = "UPDATE_ROLLBACK_IN_PROGRESS"
        self.template = old_template
        ok = True
        cleanup: list[tuple[str, Physical]] = []
        # Rolling back is an update to the previous template: in dependency order, so that a resource reads the
        # attributes its dependencies have after they rolled back (the model reads the copy's S3Uri).
        for logical_id, _before, after in updated:
            try:
                restored = self._update(
                    logical_id, after, self._properties(logical_id, old_template), old_properties=after.properties
                )
                self.resources[logical_id] = restored
                self._event(logical_id, "UPDATE_COMPLETE", "rollback")
                if restored.id != after.id:
                    cleanup.append((logical_id, after))
            except ResourceFailed as failure:
                self._event(logical_id, "UPDATE_FAILED", f"rollback: {failure.reason}")
                ok = False
        self.template = new_template
        ok = self._delete_all(created) and ok
        self.template = old_template
        self.status = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
        for logical_id, physical in cleanup:
            self._delete_physical(logical_id, physical, new_template)
        self.status = "UPDATE_ROLLBACK_COMPLETE" if ok else "UPDATE_ROLLBACK_FAILED"
        return self.status

    def _delete_all(self, logical_ids: list[str], *, on_create_failure: bool = False) -> bool:
        ok = True
        for logical_id in reversed(logical_ids):
            physical = self.resources.get(logical_id)
            if physical is None:
                continue
            policy = self.template["Resources"].get(logical_id, {}).get("DeletionPolicy", "Delete")
            if policy == "Retain" or (policy == "RetainExceptOnCreate" and not on_create_failure):
                self.leftovers.append(Leftover(logical_id, physical.type, physical.id))
                self.resources.pop(logical_id)
                self._event(logical_id, "DELETE_SKIPPED")
                continue
            try:
                self._delete_physical(logical_id, physical, self.template)
                self.resources.pop(logical_id)
                self._event(logical_id, "DELETE_COMPLETE")
            except ResourceFailed as failure:
                self._event(logical_id, "DELETE_FAILED", failure.reason)
                ok = False
        return ok

    # --- resources -------------------------------------------------------------------------------------------
    def _type(self, logical_id: str) -> str:
        return str(self.template["Resources"][logical_id]["Type"])

    def _is_custom(self, logical_id: str) -> bool:
        kind = self._type(logical_id)
        return kind.startswith("Custom::") or kind in CUSTOM

    def _resolver(self, template: dict[str, Any]) -> Resolver:
        return Resolver(template, self.name, self.id, self._ref, self._get_att, {"BootstrapVersion": "30"})

    def _properties(self, logical_id: str, template: dict[str, Any]) -> dict[str, Any]:
        raw = template["Resources"][logical_id].get("Properties", {})
        resolved = self._resolver(template).resolve(raw)
        return resolved if resolved is not NO_VALUE else {}

    def _ref(self, logical_id: str) -> Any:
        physical = self.resources.get(logical_id)
        if physical is None:
            raise ResourceFailed(f"Ref {logical_id}: the resource does not exist (yet)")
        return physical.id

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        physical = self.resources.get(logical_id)
        if physical is None:
            raise ResourceFailed(f"GetAtt {logical_id}.{attribute}: the resource does not exist (yet)")
        if attribute in physical.attributes:
            return physical.attributes[attribute]
        if not physical.rehearsed:
            return f"{physical.id}.{attribute}"
        raise ResourceFailed(
            f"CustomResource attribute error: Vendor response doesn't contain {attribute} attribute"
            if self._is_custom(logical_id)
            else f"GetAtt {logical_id}.{attribute}: no such attribute"
        )

    def _create(self, logical_id: str, template: dict[str, Any]) -> Physical:
        definition = template["Resources"][logical_id]
        kind = definition["Type"]
        reason = self._failure(logical_id, kind)
        properties = self._properties(logical_id, template)
        try:
            if reason:
                raise ResourceFailed(reason)
            return _handler(kind).create(self, logical_id, properties)
        except ResourceFailed as failure:
            failure.properties = properties
            raise

    def _update(
        self,
        logical_id: str,
        before: Physical,
        properties: dict[str, Any],
        old_properties: dict[str, Any] | None = None,
    ) -> Physical:
        kind = self._type(logical_id)
        reason = self._failure(logical_id, kind) if old_properties is None else None
        if reason:
            raise ResourceFailed(reason)
        return _handler(kind).update(self, logical_id, before, properties, old_properties or before.properties)

    def _failure(self, logical_id: str, kind: str) -> str | None:
        reason = self.failures.get(logical_id) or self.failures.get(kind)
        return reason() if callable(reason) else reason

    def _delete_physical(self, logical_id: str, physical: Physical, template: dict[str, Any]) -> None:
        _handler(physical.type).delete(self, logical_id, physical)

    def _event(self, logical_id: str, status: str, reason: str = "") -> None:
        self.events.append(StackEvent(logical_id, status, reason))

    def _order(self, template: dict[str, Any]) -> list[str]:
        resources = template["Resources"]
        resolver = self._resolver(template)
        wanted = [lid for lid, r in resources.items() if "Condition" not in r or resolver.condition(r["Condition"])]
        dependencies = {
            lid: (references(resources[lid].get("Properties", {})) | set(_list(resources[lid].get("DependsOn"))))
            & set(wanted)
            for lid in wanted
        }
        order: list[str] = []
        visiting: set[str] = set()

        def visit(lid: str) -> None:
            if lid in order:
                return
            if lid in visiting:
                raise ResourceFailed(f"circular dependency at {lid}")
            visiting.add(lid)
            for dependency in sorted(dependencies[lid]):
                visit(dependency)
            visiting.discard(lid)
            order.append(lid)

        for lid in wanted:
            visit(lid)
        return order

    def name_for(self, logical_id: str, limit: int = 64, lower: bool = False) -> str:
        name = f"{self.name}-{logical_id}"[: limit - 13] + f"-{_random()}"
        return name.lower() if lower else name


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


# --- resource types ------------------------------------------------------------------------------------------
class ResourceType:
    def create(self, stack: Stack, logical_id: str, properties: dict[str, Any]) -> Physical:
        raise NotImplementedError

    def update(
        self, stack: Stack, logical_id: str, before: Physical, properties: dict[str, Any], old: dict[str, Any]
    ) -> Physical:
        self.delete(stack, logical_id, before)
        return self.create(stack, logical_id, properties)

    def delete(self, stack: Stack, logical_id: str, physical: Physical) -> None:
        pass


class Recorded(ResourceType):
    """Not rehearsed: a made-up physical id, so that references to it resolve."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def create(self, stack: Stack, logical_id: str, properties: dict[str, Any]) -> Physical:
        service = self.kind.split("::")[1].lower()
        physical_id = f"{logical_id.lower()}-{_random(8).lower()}"
        arn = f"arn:aws:{service}:{REGION}:{ACCOUNT}:{logical_id.lower()}/{physical_id}"
        if self.kind == "AWS::Logs::LogGroup":
            physical_id = properties.get("LogGroupName") or stack.name_for(logical_id, 512)
            arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{physical_id}:*"
        return Physical(self.kind, physical_id, properties, {"Arn": arn}, rehearsed=False)

    def update(
        self, stack: Stack, logical_id: str, before: Physical, properties: dict[str, Any], old: dict[str, Any]
    ) -> Physical:
        return Physical(self.kind, before.id, properties, before.attributes, rehearsed=False)


class IamRole(ResourceType):
    def create(self, stack: Stack, logical_id: str, properties: dict[str, Any]) -> Physical:
        role = Role(
            logical_id, properties.get("RoleName") or stack.name_for(logical_id), properties["AssumeRolePolicyDocument"]
        )
        _set_role_policies(role, properties)
        stack.account.iam.add_role(role)
        return Physical("AWS::IAM::Role", role.name, properties, {"Arn": role.arn, "RoleId": f"AROA{_random(17)}"})

    def update(
        self, stack: Stack, logical_id: str, before: Physical, properties: dict[str, Any], old: dict[str, Any]
    ) -> Physical:
        role = stack.account.iam.role(before.attributes["Arn"])
        role.trust_policy = properties["AssumeRolePolicyDocument"]
        for name in [n for n in role.policies if n.startswith(("inline:", "managed:"))]:
            del role.policies[name]
        _set_role_policies(role, properties)
        return Physical(before.type, before.id, properties, before.attributes)

    def delete(self, stack: Stack, logical_id: str, physical: Physical) -> None:
        stack.account.iam.roles.pop(physical.attributes["Arn"], None)


def _set_role_policies(role: Role, properties: dict[str, Any]) -> None:
    for policy in properties.get("Policies", []):
        role.policies[f"inline:{policy['PolicyName']}"] = policy["PolicyDocument"]
    for arn in properties.get("ManagedPolicyArns", []):
        if arn not in AWS_MANAGED_POLICIES:
            raise ResourceFailed(f"managed policy {arn}: the rehearsal does not know its document")
        role.policies[f"managed:{arn}"] = AWS_MANAGED_POLICIES[arn]


class IamPolicy(ResourceType):
    def create(self, stack: Stack, logical_id: str, properties: dict[str, Any]) -> Physical:
        physical_id = f"{stack.name[:10]}-{logical_id[:30]}-{_random()}"
        for role_name in properties.get("Roles", []):
            role = stack.account.iam.role(f"arn:aws:iam::{ACCOUNT}:role/{role_name}")
            role.policies[f"policy:{physical_id}"] = properties["PolicyDocument"]
        return Physical("AWS::IAM::Policy", physical_id, properties)

    def delete(self, stack: Stack, logical_id: str, physical: Physical) -> None:
        for role in stack.account.iam.roles.values():
            role.policies.pop(f"policy:{physical.id}", None)


class Bucket(ResourceType):
    def create(self, stack: Stack, logical_id: str, properties: dict[str, Any]) -> Physical:
        name = properties.get("BucketName") or stack.name_for(logical_id, 63, lower=True)
        s3 = stack.account.admin("s3")
        s3.create_bucket(Bucket=name)
        if properties.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if properties.get("Tags"):
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": properties["Tags"]})
        attributes = {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
        }
        return Physical("AWS::S3::Bucket", name, properties, attributes)

    def update(
        self, stack: Stack, logical_id: str, before: Physical, properties: dict[str, Any], old: dict[str, Any]
    ) -> Physical:
        return Physical(before.type, before.id, properties, before.attributes)

    def delete(self, stack: Stack, logical_id: str, physical: Physical) -> None:
        s3 = stack.account.admin("s3")
        try:
            s3.delete_bucket(Bucket=physical.id)
        except s3.exceptions.ClientError as error:
            raise ResourceFailed(str(error)) from error


class BucketPolicy(ResourceType):
    """The policy IAM decides S3 requests with. The gateway holds it (and answers Get/PutBucketPolicy): moto would
    apply it on its own and refuse the gateway's plain-HTTP hop under the policy's TLS-only statement."""

    def create(self, stack: Stack, logical_id: str, properties: dict[str, Any]) -> Physical:
        stack.account.bucket_policies[properties["Bucket"]] = properties["PolicyDocument"]
        return Physical("AWS::S3::BucketPolicy", properties["Bucket"], properties)

    def delete(self, stack: Stack, logical_id: str, physical: Physical) -> None:
        stack.account.bucket_policies.pop(physical.id, None)


class LambdaFunction(ResourceType):
    def create(self, stack: Stack, logical_id: str, properties: dict[str, Any], name: str | None = None) -> Physical:
        account = stack.account
        role_arn = properties["Role"]
        if not account.iam.may_assume("lambda.amazonaws.com", role_arn).allowed:
            raise ResourceFailed("The role defined for the function cannot be assumed by Lambda.")
        name = name or properties.get("FunctionName") or stack.name_for(logical_id)
        log_group = properties.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{name}"
        variables = properties.get("Environment", {}).get("Variables", {})
        if not all(isinstance(v, str) for v in variables.values()):
            raise ResourceFailed(f"{logical_id}: environment values must be strings: {variables}")
        code = stack.artifact.asset_folder(stack.template["Resources"][logical_id]["Properties"]["Code"])
        spec = FunctionSpec(
            logical_id=logical_id,
            name=name,
            handler=properties["Handler"],
            runtime=properties["Runtime"],
            timeout_seconds=int(properties.get("Timeout", 3)),
            memory_mb=int(properties.get("MemorySize", 128)),
            environment=dict(variables),
            code=code,
            role=Principal(role_arn, name),
            log_group=log_group,
        )
        account.lambdas.create_function(spec)
        stream = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{log_group}:log-stream:2026/12/01/[$LATEST]0"
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):  # Lambda writes the function's logs as its role
            account.log_writes.append(account.iam.decide(Principal(role_arn, name), action, stream))
        return Physical("AWS::Lambda::Function", name, properties, {"Arn": spec.arn})

    def update(
        self, stack: Stack, logical_id: str, before: Physical, properties: dict[str, Any], old: dict[str, Any]
    ) -> Physical:  # in place: same name and ARN, new code, configuration and environment
        stack.account.lambdas.delete_function(before.id)
        return self.create(stack, logical_id, properties, name=before.id)

    def delete(self, stack: Stack, logical_id: str, physical: Physical) -> None:
        stack.account.lambdas.delete_function(physical.id)


class StepFunctionsStateMachine(ResourceType):
    def create(self, stack: Stack, logical_id: str, properties: dict[str, Any], name: str | None = None) -> Physical:
        account = stack.account
        name = name or properties.get("StateMachineName") or f"{logical_id}-{_random()}"
        machine_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
        trust = account.iam.may_assume(
            "states.amazonaws.com",
            properties["RoleArn"],
            {"aws:SourceArn": machine_arn, "aws:SourceAccount": ACCOUNT},
        )
        if not trust.allowed:
            raise ResourceFailed(
                "Neither the global service principal states.amazonaws.com, nor the regional one is authorized to "
                "assume the provided role."
            )
        definition = properties.get("DefinitionString")
        if definition is None:
            raise ResourceFailed(f"{logical_id}: only DefinitionString is rehearsed")
        for key, value in properties.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        machine = StateMachine(logical_id, name, json.loads(definition), Principal(properties["RoleArn"], name))
        account.step_functions.create_state_machine(machine)
        return Physical("AWS::StepFunctions::StateMachine", machine.arn, properties, {"Arn": machine.arn, "Name": name})

    def update(
        self, stack: Stack, logical_id: str, before: Physical, properties: dict[str, Any], old: dict[str, Any]
    ) -> Physical:  # in place: same ARN, new definition and role
        stack.account.step_functions.delete_state_machine(before.id)
        return self.create(stack, logical_id, properties, name=before.attributes["Name"])

    def delete(self, stack: Stack, logical_id: str, physical: Physical) -> None:
        stack.account.step_functions.delete_state_machine(physical.id)


class Vpc(ResourceType):
    def create(self, stack: Stack, logical_id: str, properties: dict[str, Any]) -> Physical:
        ec2 = stack.account.admin("ec2")
        vpc = ec2.create_vpc(CidrBlock=properties["CidrBlock"])["Vpc"]
        groups = ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}, {"Name": "group-name", "Values": ["default"]}]
        )["SecurityGroups"]
        attributes = {
            "VpcId": vpc["VpcId"],
            "CidrBlock": properties["CidrBlock"],
            "DefaultSecurityGroup": groups[0]["GroupId"],
        }
        return Physical("AWS::EC2::VPC", vpc["VpcId"], properties, attributes)

    def update(
        self, stack: Stack, logical_id: str, before: Physical, properties: dict[str, Any], old: dict[str, Any]
    ) -> Physical:
        return Physical(before.type, before.id, properties, before.attributes)

    def delete(self, stack: Stack, logical_id: str, physical: Physical) -> None:
        stack.account.admin("ec2").delete_vpc(VpcId=physical.id)


class SageMakerModel(ResourceType):
    """What SageMaker needs of a model before its container starts: a role it may assume, and model data the role
    may list and download (the rehearsal downloads it, as SageMaker copies an S3Prefix to /opt/ml/model)."""

    def create(self, stack: Stack, logical_id: str, properties: dict[str, Any]) -> Physical:
        account = stack.account
        role_arn = properties["ExecutionRoleArn"]
        name = properties.get("ModelName") or f"{logical_id}-{_random()}"
        model_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/{name.lower()}"
        context = {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": model_arn}
        if not account.iam.may_assume("sagemaker.amazonaws.com", role_arn, context).allowed:
            raise ResourceFailed(f"Could not assume role {role_arn}")
        container = properties.get("PrimaryContainer", {})
        source = container.get("ModelDataSource", {}).get("S3DataSource")
        if source is not None:
            stack.model_data[logical_id] = self._download(stack, role_arn, source)
        return Physical("AWS::SageMaker::Model", name, properties, {"ModelName": name})

    @staticmethod
    def _download(stack: Stack, role_arn: str, source: dict[str, Any]) -> dict[str, bytes]:
        uri = source["S3Uri"]
        if (
            source.get("S3DataType") != "S3Prefix"
            or source.get("CompressionType") != "None"
            or not (uri.startswith("s3://") and uri.endswith("/"))
        ):
            raise ResourceFailed(f"model data {source}: the rehearsal expects an uncompressed S3Prefix ending in /")
        bucket, _, prefix = uri[len("s3://") :].partition("/")
        s3 = stack.account.client("s3", Principal(role_arn, "SageMaker"))
        files: dict[str, bytes] = {}
        try:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                    files[item["Key"][len(prefix) :]] = body
        except Exception as error:
            raise ResourceFailed(f"Failed to download model data from {uri}: {error}") from error
        if not files:
            raise ResourceFailed(f"Failed to download model data from {uri}: no objects under the prefix")
        return files


class CustomResource(ResourceType):
    """CloudFormation's side of the custom-resource protocol."""

    def create(self, stack: Stack, logical_id: str, properties: dict[str, Any]) -> Physical:
        response = self._request(stack, logical_id, "Create", properties)
        return Physical(stack._type(logical_id), response["PhysicalResourceId"], properties, response.get("Data") or {})

    def update(
        self, stack: Stack, logical_id: str, before: Physical, properties: dict[str, Any], old: dict[str, Any]
    ) -> Physical:
        response = self._request(stack, logical_id, "Update", properties, old, before.id)
        return Physical(before.type, response["PhysicalResourceId"], properties, response.get("Data") or {})

    def delete(self, stack: Stack, logical_id: str, physical: Physical) -> None:
        self._request(stack, logical_id, "Delete", physical.properties, physical_id=physical.id)

    def _request(
        self,
        stack: Stack,
        logical_id: str,
        request_type: str,
        properties: dict[str, Any],
        old_properties: dict[str, Any] | None = None,
        physical_id: str | None = None,
    ) -> dict[str, Any]:
        account = stack.account
        request_id = str(uuid.uuid4())
        key = quote(f"{stack.id}|{logical_id}|{request_id}", safe="")
        signature = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=7200&X-Amz-Signature=" + _random(64).lower()
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": properties["ServiceToken"],
            "ResponseURL": f"https://{CFN_RESPONSE_HOST}/{key}?{signature}",
            "StackId": stack.id,
            "RequestId": request_id,
            "LogicalResourceId": logical_id,
            "ResourceType": stack._type(logical_id),
            "ResourceProperties": _strings(properties),
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if old_properties is not None:
            event["OldResourceProperties"] = _strings(old_properties)
        timeout = float(properties.get("ServiceTimeout", 3600))
        response = account.custom_resource_response(event, timeout)
        if response is None:
            raise ResourceFailed(
                "CloudFormation did not receive a response from your Custom Resource. Please check your logs for "
                f"requestId [{request_id}].",
                physical_id,
            )
        size = len(json.dumps(response).encode())
        if size > RESPONSE_LIMIT:
            raise ResourceFailed(f"Response object is too long ({size} bytes > {RESPONSE_LIMIT})", physical_id)
        if response.get("Status") != "SUCCESS":
            raise ResourceFailed(str(response.get("Reason")), response.get("PhysicalResourceId") or physical_id)
        if not response.get("PhysicalResourceId"):
            raise ResourceFailed("Invalid PhysicalResourceId", physical_id)
        return response


def _strings(properties: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation hands custom resources every scalar property as a string."""

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else str(value)

    return {key: convert(value) for key, value in properties.items()}


_REHEARSED: dict[str, ResourceType] = {
    "AWS::IAM::Role": IamRole(),
    "AWS::IAM::Policy": IamPolicy(),
    "AWS::S3::Bucket": Bucket(),
    "AWS::S3::BucketPolicy": BucketPolicy(),
    "AWS::Lambda::Function": LambdaFunction(),
    "AWS::StepFunctions::StateMachine": StepFunctionsStateMachine(),
    "AWS::EC2::VPC": Vpc(),
    "AWS::SageMaker::Model": SageMakerModel(),
}
REHEARSED_TYPES = frozenset(_REHEARSED) | {"Custom::*", *CUSTOM}


def _handler(kind: str) -> ResourceType:
    if kind in _REHEARSED:
        return _REHEARSED[kind]
    if kind.startswith("Custom::") or kind in CUSTOM:
        return CustomResource()
    return Recorded(kind)


class ResponseBox:
    """Where CloudFormation's response bucket delivers a custom resource's response."""

    def __init__(self) -> None:
        self._responses: dict[str, dict[str, Any]] = {}
        self._arrived = threading.Condition()
        self.seen: list[dict[str, Any]] = []

    def put(self, response: dict[str, Any]) -> None:
        with self._arrived:
            self.seen.append(response)
            self._responses[response["RequestId"]] = response
            self._arrived.notify_all()

    def wait(self, request_id: str, timeout: float, stop: Callable[[], bool] = lambda: False) -> dict[str, Any] | None:
        with self._arrived:
            self._arrived.wait_for(lambda: request_id in self._responses or stop(), timeout)
            return self._responses.pop(request_id, None)
