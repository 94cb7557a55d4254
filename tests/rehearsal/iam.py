"""IAM as the rehearsal enforces it: roles and their policies as the template creates them, and every decision made
by a real policy evaluator, `@cloud-copilot/iam-simulate` (identity policies, resource policies such as the bucket
policy, every condition operator, action and ARN validation), in a Node.js process of its own.

Why not moto's IAM enforcement: in moto 5.2 a statement whose condition cannot be evaluated *denies* (a condition
that does not match should make the statement not apply), resource policies are ignored, and resources are matched
as regular expressions. That would pass or fail our policies for reasons AWS does not have.

The simulator is AGPL-3.0: a test-only tool here, installed by ``make test`` into tests/rehearsal/iam_simulator,
never by ``make synth`` or the pipeline, never part of the library, and not modified.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rehearsal.network import ACCOUNT, REGION

SIMULATOR = Path(__file__).resolve().parent / "iam_simulator"
# The AWS managed policies CDK attaches to its own helper functions (their documents as AWS publishes them).
AWS_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            }
        ],
    }
}


@dataclass(frozen=True)
class Principal:
    """A session of a role (what a function, a state machine or SageMaker acts as)."""

    role_arn: str
    session: str

    @property
    def arn(self) -> str:
        name = self.role_arn.rsplit("/", 1)[1]
        return f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/{self.session}"


@dataclass
class Role:
    logical_id: str
    name: str
    trust_policy: dict[str, Any]
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> document

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT}:role/{self.name}"


@dataclass(frozen=True)
class Decision:
    principal: str
    action: str
    resource: str
    result: str  # Allowed | ExplicitlyDenied | ImplicitlyDenied | Error
    context: dict[str, Any]
    errors: Any = None

    @property
    def allowed(self) -> bool:
        return self.result == "Allowed"


class PolicyError(Exception):
    """The simulator refused the request or a policy (an invalid action, ARN or policy document)."""


class Iam:
    """The roles of the rehearsal's account, and the evaluator that decides every request."""

    def __init__(self) -> None:
        self.roles: dict[str, Role] = {}  # by ARN
        self.decisions: list[Decision] = []
        self._lock = threading.Lock()
        self._simulator = subprocess.Popen(
            ["node", str(SIMULATOR / "simulate.mjs")],
            cwd=SIMULATOR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def close(self) -> None:
        if self._simulator.stdin:
            self._simulator.stdin.close()
        self._simulator.wait(timeout=10)

    def add_role(self, role: Role) -> None:
        if role.arn in self.roles:
            raise PolicyError(f"Role with name {role.name} already exists")
        self.roles[role.arn] = role

    def role(self, arn: str) -> Role:
        return self.roles[arn]

    def identity_policies(self, principal: Principal) -> list[dict[str, Any]]:
        role = self.roles.get(principal.role_arn)
        if role is None:
            return []
        return [{"name": name, "policy": document} for name, document in role.policies.items()]

    def decide(
        self,
        principal: Principal | str,
        action: str,
        resource: str,
        context: dict[str, Any] | None = None,
        resource_policy: dict[str, Any] | None = None,
        *,
        record: bool = True,
    ) -> Decision:
        """Whether ``principal`` (a role session, or a service principal for trust policies) may do ``action`` on
        ``resource``. The request context holds the keys AWS sets for every request and the caller's own."""
        if isinstance(principal, Principal):
            identity = self.identity_policies(principal)
            principal_arn = principal.arn
            context = {**self._global_context(principal), **(context or {})}
        else:  # a service principal assuming a role: only the trust policy decides
            identity, principal_arn, context = [], principal, context or {}
        simulation = {
            "request": {
                "principal": principal_arn,
                "action": action,
                "resource": {"resource": resource, "accountId": ACCOUNT},
                "contextVariables": context,
            },
            "identityPolicies": identity,
            "serviceControlPolicies": [],
            "resourceControlPolicies": [],
        }
        if resource_policy is not None:
            simulation["resourcePolicy"] = resource_policy
        with self._lock:
            assert self._simulator.stdin and self._simulator.stdout
            self._simulator.stdin.write(json.dumps(simulation) + "\n")
            self._simulator.stdin.flush()
            answer = json.loads(self._simulator.stdout.readline())
        decision = Decision(principal_arn, action, resource, answer["decision"], context, answer.get("errors"))
        if decision.result == "Error":
            raise PolicyError(f"{action} on {resource}: {json.dumps(decision.errors)[:1500]}")
        if record:
            with self._lock:
                self.decisions.append(decision)
        return decision

    def may_assume(self, service: str, role_arn: str, context: dict[str, Any] | None = None) -> Decision:
        """The role's trust policy, evaluated for ``service`` (e.g. ``lambda.amazonaws.com``)."""
        role = self.roles[role_arn]
        return self.decide(service, "sts:AssumeRole", role_arn, context, role.trust_policy)

    @staticmethod
    def _global_context(principal: Principal) -> dict[str, Any]:
        now = datetime.datetime.now(datetime.UTC)
        return {
            "aws:PrincipalArn": principal.role_arn,
            "aws:PrincipalAccount": ACCOUNT,
            "aws:PrincipalType": "AssumedRole",
            "aws:RequestedRegion": REGION,
            "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws:EpochTime": str(int(now.timestamp())),
        }
