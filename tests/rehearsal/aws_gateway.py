"""The AWS endpoints of the rehearsal: one TLS server that every AWS host name routes to.

Each request is authenticated by its SigV4 credential (the session credentials a function's role was given),
turned into the IAM actions and resources AWS authorizes it as, and decided by the policy evaluator with the caller's
role policies and, for S3, the bucket policy. A denied request fails as AWS fails it (S3: 403 AccessDenied; JSON
APIs: AccessDeniedException). S3's rule for missing keys applies: HeadObject/GetObject of a key that does not exist
answers 403, not 404, unless the caller may s3:ListBucket. Allowed requests go on to moto (S3, Secrets Manager,
EC2, STS) or to the rehearsal's own Step Functions and Lambda. An operation the gateway cannot map to IAM actions is
refused and recorded, so that a new call in the code fails the rehearsal until it is understood.
"""

from __future__ import annotations

import http.client
import json
import re
import secrets
import string
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from rehearsal.iam import Iam, Principal
from rehearsal.network import ACCOUNT, CFN_RESPONSE_HOST, REGION, Network, TlsServer

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
_S3_HOST = re.compile(r"^(?:(?P<bucket>[a-z0-9.-]+)\.)?s3(?:\.(?P<region>[a-z0-9-]+))?\.amazonaws\.com$")
_SERVICE_HOST = re.compile(r"^(?P<service>[a-z0-9-]+)\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")


@dataclass(frozen=True)
class Check:
    action: str
    resource: str
    context: dict[str, Any] = field(default_factory=dict)
    resource_policy: Any = None  # when the resource is not the request's own (a KMS key behind a secret)


@dataclass
class Call:
    """One request a principal made, and what IAM decided."""

    principal: str
    service: str
    operation: str
    checks: list[Check]
    allowed: bool
    status: int = 0


class Credentials:
    """Session credentials for role principals, as STS would hand them to Lambda or Step Functions."""

    def __init__(self) -> None:
        self._by_principal: dict[Principal, tuple[str, str, str]] = {}
        self._by_key: dict[str, tuple[Principal, str]] = {}
        self._lock = threading.Lock()

    def __call__(self, principal: Principal) -> tuple[str, str, str]:
        with self._lock:
            if principal not in self._by_principal:
                key = "ASIA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))
                secret, token = secrets.token_urlsafe(30), secrets.token_urlsafe(60)
                self._by_principal[principal] = (key, secret, token)
                self._by_key[key] = (principal, token)
            return self._by_principal[principal]

    def principal(self, access_key: str, token: str | None) -> Principal | None:
        found = self._by_key.get(access_key)
        if found is None or found[1] != token:
            return None
        return found[0]


class Denied(Exception):
    def __init__(self, check: Check, principal: Principal) -> None:
        super().__init__(
            f"User: {principal.arn} is not authorized to perform: {check.action} on resource: {check.resource} "
            "because no identity-based policy allows the action or an explicit deny applies"
        )


class Unmapped(Exception):
    pass


# A service answers (status, headers, body) for an authorized request.
Service = Callable[[Principal, str, dict[str, Any]], tuple[int, dict[str, str], bytes]]


class AwsGateway:
    def __init__(
        self,
        network: Network,
        iam: Iam,
        credentials: Credentials,
        moto_endpoint: str,
        bucket_policies: dict[str, dict[str, Any]],
    ) -> None:
        self.iam = iam
        self.credentials = credentials
        self.moto = urlsplit(moto_endpoint)
        self.bucket_policies = bucket_policies  # bucket name -> policy document (as the template created it)
        self.services: dict[str, Service] = {}  # "states", "lambda": the rehearsal's own services
        self.json_actions: dict[str, Callable[[str, dict[str, Any]], list[Check]]] = {}
        self.calls: list[Call] = []
        self.unmapped: list[str] = []
        self.upload_started: dict[str, str] = {}  # upload id -> when it started (ISO 8601, UTC)
        self.cfn_responses: Callable[[dict[str, Any]], None] | None = None
        self.secret_arns: Callable[[str], str | None] = lambda secret_id: None
        # secret id -> the customer managed KMS key that encrypts it, if any
        self.secret_keys: Callable[[str], str | None] = lambda secret_id: None
        self._lock = threading.Lock()
        self._server = TlsServer(("127.0.0.1", 0), _handler(self), network.server_context())
        threading.Thread(target=self._server.serve_forever, daemon=True, name="aws-gateway").start()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def upload_times(self, operation: str, answer: bytes) -> bytes:
        """moto answers every upload's Initiated with one date of 2010; S3 tells when each started, and the copy
        relies on it (it aborts only uploads too old to belong to a running copy). The gateway keeps the times."""
        text = answer.decode()
        if operation == "CreateMultipartUpload":
            upload_id = re.search(r"<UploadId>([^<]+)</UploadId>", text)
            if upload_id:
                self.upload_started[upload_id.group(1)] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
            return answer

        def initiated(upload: re.Match[str]) -> str:
            block = upload.group(0)
            upload_id = re.search(r"<UploadId>([^<]+)</UploadId>", block)
            started = self.upload_started.get(upload_id.group(1)) if upload_id else None
            return (
                re.sub(r"<Initiated>[^<]*</Initiated>", f"<Initiated>{started}</Initiated>", block)
                if started
                else block
            )

        return re.sub(r"<Upload>.*?</Upload>", initiated, text, flags=re.S).encode()

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def authorize(
        self, principal: Principal, service: str, operation: str, checks: list[Check], resource_policy: Any = None
    ) -> Call:
        call = Call(principal.arn, service, operation, checks, allowed=True)
        try:
            for check in checks:
                decision = self.iam.decide(
                    principal,
                    check.action,
                    check.resource,
                    {"aws:SecureTransport": "true", **check.context},
                    check.resource_policy or resource_policy,
                )
                if not decision.allowed:
                    call.allowed = False
                    raise Denied(check, principal)
        finally:
            self.record(call)
        return call


def _handler(gateway: AwsGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_HEAD(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        # --- dispatch --------------------------------------------------------------------------------------
        def _serve(self) -> None:
            body = self._body()
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            if host == CFN_RESPONSE_HOST:
                return self._cfn_response(body)
            authorization = self.headers.get("Authorization") or ""
            credential = _CREDENTIAL.search(authorization)
            principal = (
                gateway.credentials.principal(credential.group(1), self.headers.get("X-Amz-Security-Token"))
                if credential
                else None
            )
            if principal is None:
                return self._error(403, "InvalidClientTokenId", "The security token included in the request is invalid")
            service = credential.group(3) if credential else ""
            s3 = service == "s3"
            try:
                if s3:
                    virtual = _S3_HOST.match(host)
                    return self._s3(principal, virtual.group("bucket") if virtual else None, body)
                if service in gateway.services:
                    return self._own_service(principal, service, body)
                return self._json_or_query(principal, service, body)
            except Denied as denied:
                if s3:
                    return self._s3_error(403, "AccessDenied", str(denied))
                return self._error(400, "AccessDeniedException", str(denied))
            except Unmapped as unmapped:
                with gateway._lock:
                    gateway.unmapped.append(str(unmapped))
                if s3:
                    return self._s3_error(400, "RehearsalUnmappedOperation", str(unmapped))
                return self._error(400, "RehearsalUnmappedOperation", str(unmapped))

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        # --- S3 ---------------------------------------------------------------------------------------------
        def _s3(self, principal: Principal, virtual_bucket: str | None, body: bytes) -> None:
            parts = urlsplit(self.path)
            raw_path = parts.path
            if virtual_bucket:
                bucket, raw_key = virtual_bucket, raw_path.lstrip("/")
            else:
                bucket, _, raw_key = raw_path.lstrip("/").partition("/")
            query = parse_qs(parts.query, keep_blank_values=True)
            operation, checks = s3_checks(self.command, bucket, unquote(raw_key), query, self.headers, body)
            policy = gateway.bucket_policies.get(bucket)
            call = gateway.authorize(principal, "s3", operation, checks, policy)
            if operation in ("GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"):
                call.status = self._bucket_policy(operation, bucket, body)
                return
            status, headers, answer = self._forward(
                f"/{bucket}/{raw_key}" + (f"?{parts.query}" if parts.query else ""), body
            )
            if status == 404 and operation in ("HeadObject", "GetObject"):
                may_list = gateway.iam.decide(
                    principal,
                    "s3:ListBucket",
                    f"arn:aws:s3:::{bucket}",
                    {"aws:SecureTransport": "true"},
                    policy,
                    record=False,
                )
                if not may_list.allowed:  # S3 does not tell a caller who may not list whether a key exists
                    call.status = 403
                    return self._s3_error(403, "AccessDenied", "Access Denied")
            call.status = status
            if status == 200 and operation in ("CreateMultipartUpload", "ListMultipartUploads"):
                answer = gateway.upload_times(operation, answer)
            self._reply(status, headers, answer)

        def _bucket_policy(self, operation: str, bucket: str, body: bytes) -> int:
            """Bucket policies live in the gateway, which decides with them (see ``cloudformation.BucketPolicy``)."""
            if operation == "PutBucketPolicy":
                gateway.bucket_policies[bucket] = json.loads(body)
                self._reply(204, {}, b"")
                return 204
            if bucket not in gateway.bucket_policies:
                self._s3_error(404, "NoSuchBucketPolicy", "The bucket policy does not exist")
                return 404
            if operation == "DeleteBucketPolicy":
                del gateway.bucket_policies[bucket]
                self._reply(204, {}, b"")
                return 204
            policy = json.dumps(gateway.bucket_policies[bucket]).encode()
            self._reply(200, {"Content-Type": "application/json"}, policy)
            return 200

        def _forward(self, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
            connection = http.client.HTTPConnection(gateway.moto.hostname, gateway.moto.port, timeout=120)
            headers = {
                name: value
                for name, value in self.headers.items()
                if name.lower() not in ("host", "transfer-encoding", "connection", "content-length")
            }
            headers["Host"] = f"{gateway.moto.hostname}:{gateway.moto.port}"
            headers["Content-Length"] = str(len(body))
            try:
                connection.request(self.command, path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
                return response.status, dict(response.getheaders()), answer
            finally:
                connection.close()

        # --- JSON and query APIs served by moto ---------------------------------------------------------------
        def _json_or_query(self, principal: Principal, service: str, body: bytes) -> None:
            target = self.headers.get("X-Amz-Target")
            if target:
                operation = target.split(".", 1)[1]
                request = json.loads(body or b"{}")
            else:
                form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
                operation, request = form.get("Action", ""), form
            checks = service_checks(gateway, service, operation, request)
            call = gateway.authorize(principal, service, operation, checks)
            status, headers, answer = self._forward(self.path, body)
            call.status = status
            self._reply(status, headers, answer)

        def _own_service(self, principal: Principal, service: str, body: bytes) -> None:
            target = self.headers.get("X-Amz-Target")
            request: dict[str, Any] = {"method": self.command, "path": self.path, "headers": dict(self.headers)}
            if target:
                operation = target.split(".", 1)[1]
                request["body"] = json.loads(body or b"{}")
            else:
                operation, request["body"] = lambda_operation(self.command, self.path), body
            checks = service_checks(gateway, service, operation, request)
            call = gateway.authorize(principal, service, operation, checks)
            status, headers, answer = gateway.services[service](principal, operation, request)
            call.status = status
            self._reply(status, headers, answer)

        # --- CloudFormation's response bucket -----------------------------------------------------------------
        def _cfn_response(self, body: bytes) -> None:
            if gateway.cfn_responses is not None:
                gateway.cfn_responses(json.loads(body))
            self._reply(200, {}, b"")

        # --- answers ------------------------------------------------------------------------------------------
        def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            length = str(len(body))
            for name, value in headers.items():
                if name.lower() == "content-length" and self.command == "HEAD":
                    length = value  # a HEAD answer tells the length of the body it does not carry
                elif name.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                    self.send_header(name, value)
            self.send_header("Content-Length", length)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, status: int, code: str, message: str) -> None:
            body = json.dumps({"__type": code, "message": message}).encode()
            self._reply(status, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}, body)

        def _s3_error(self, status: int, code: str, message: str) -> None:
            body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
            self._reply(status, {"Content-Type": "application/xml"}, body)

    return Handler


# --- what AWS authorizes a request as ------------------------------------------------------------------------
def s3_checks(
    method: str, bucket: str, key: str, query: dict[str, list[str]], headers: Any, body: bytes
) -> tuple[str, list[Check]]:
    """The S3 operation of a REST request and the IAM actions it needs (the S3 User Guide's action mapping)."""
    bucket_arn, object_arn = f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/{key}"
    if not key:
        if method == "HEAD":
            return "HeadBucket", [Check("s3:ListBucket", bucket_arn)]
        if method == "GET" and "uploads" in query:
            context = {"s3:prefix": query.get("prefix", [""])[0]}
            return "ListMultipartUploads", [Check("s3:ListBucketMultipartUploads", bucket_arn, context)]
        if method == "GET" and "versions" in query:
            context = {"s3:prefix": query.get("prefix", [""])[0]}
            return "ListObjectVersions", [Check("s3:ListBucketVersions", bucket_arn, context)]
        if method == "GET" and set(query) <= {
            "list-type",
            "prefix",
            "delimiter",
            "max-keys",
            "continuation-token",
            "start-after",
            "encoding-type",
            "marker",
            "fetch-owner",
        }:
            context = {"s3:prefix": query.get("prefix", [""])[0]}
            if "delimiter" in query:
                context["s3:delimiter"] = query["delimiter"][0]
            operation = "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
            return operation, [Check("s3:ListBucket", bucket_arn, context)]
        if method == "POST" and "delete" in query:
            checks = []
            for element in ElementTree.fromstring(body):
                fields = {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in element}
                if "Key" in fields:
                    action = "s3:DeleteObjectVersion" if "VersionId" in fields else "s3:DeleteObject"
                    checks.append(Check(action, f"{bucket_arn}/{fields['Key']}"))
            return "DeleteObjects", checks
        for subresource, operations in _BUCKET_SUBRESOURCES.items():
            if subresource in query and method in operations:
                operation, action = operations[method]
                return operation, [Check(action, bucket_arn)]
        raise Unmapped(f"S3 {method} /{bucket} ?{sorted(query)}")
    if "uploadId" in query:
        if method == "PUT" and "partNumber" in query:
            if headers.get("x-amz-copy-source"):
                raise Unmapped("S3 UploadPartCopy")
            return "UploadPart", [Check("s3:PutObject", object_arn)]
        if method == "POST":
            return "CompleteMultipartUpload", [Check("s3:PutObject", object_arn)]
        if method == "DELETE":
            return "AbortMultipartUpload", [Check("s3:AbortMultipartUpload", object_arn)]
        if method == "GET":
            return "ListParts", [Check("s3:ListMultipartUploadParts", object_arn)]
    if method == "POST" and "uploads" in query:
        return "CreateMultipartUpload", [Check("s3:PutObject", object_arn)]
    if set(query) - {"versionId", "partNumber", "response-content-type", "x-id"}:
        raise Unmapped(f"S3 {method} /{bucket}/{key} ?{sorted(query)}")
    versioned = "versionId" in query
    if method in ("GET", "HEAD"):
        operation = "GetObject" if method == "GET" else "HeadObject"
        return operation, [Check("s3:GetObjectVersion" if versioned else "s3:GetObject", object_arn)]
    if method == "PUT":
        if headers.get("x-amz-copy-source"):
            raise Unmapped("S3 CopyObject")
        return "PutObject", [Check("s3:PutObject", object_arn)]
    if method == "DELETE":
        return "DeleteObject", [Check("s3:DeleteObjectVersion" if versioned else "s3:DeleteObject", object_arn)]
    raise Unmapped(f"S3 {method} /{bucket}/{key}")


# The key policy KMS gives a key created without one: the account decides, through IAM.
DEFAULT_KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}
_BUCKET_SUBRESOURCES = {
    "tagging": {"GET": ("GetBucketTagging", "s3:GetBucketTagging"), "PUT": ("PutBucketTagging", "s3:PutBucketTagging")},
    "policy": {
        "GET": ("GetBucketPolicy", "s3:GetBucketPolicy"),
        "PUT": ("PutBucketPolicy", "s3:PutBucketPolicy"),
        "DELETE": ("DeleteBucketPolicy", "s3:DeleteBucketPolicy"),
    },
    "versioning": {"GET": ("GetBucketVersioning", "s3:GetBucketVersioning")},
    "location": {"GET": ("GetBucketLocation", "s3:GetBucketLocation")},
}


def lambda_operation(method: str, path: str) -> str:
    route = urlsplit(path).path
    if method == "POST" and re.fullmatch(r"/2015-03-31/functions/[^/]+/invocations", route):
        return "Invoke"
    if method == "GET" and re.fullmatch(r"/2015-03-31/functions/[^/]+", route):
        return "GetFunction"
    raise Unmapped(f"Lambda {method} {route}")


def _function_arn(name: str) -> str:
    name = unquote(name)
    if name.startswith("arn:"):
        return name
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def service_checks(gateway: AwsGateway, service: str, operation: str, request: dict[str, Any]) -> list[Check]:
    """IAM actions of the JSON/query operations the rehearsal's functions call."""
    if service == "states":
        body = request["body"]
        arn = body.get("mapRunArn") or body.get("stateMachineArn") or body.get("executionArn")
        if operation in (
            "StartExecution",
            "DescribeExecution",
            "StopExecution",
            "ListExecutions",
            "ListMapRuns",
            "DescribeStateMachine",
            "DescribeMapRun",
            "GetExecutionHistory",
        ):
            return [Check(f"states:{operation}", str(arn))]
    if service == "lambda":
        name = urlsplit(request["path"]).path.split("/")[3]
        if operation == "Invoke":
            return [Check("lambda:InvokeFunction", _function_arn(name))]
        if operation == "GetFunction":
            return [Check("lambda:GetFunction", _function_arn(name))]
    if service == "secretsmanager" and operation in ("GetSecretValue", "DescribeSecret"):
        secret_id = str(request.get("SecretId", ""))
        arn = gateway.secret_arns(secret_id) or (
            secret_id
            if secret_id.startswith("arn:")
            else f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret_id}"
        )
        checks = [Check(f"secretsmanager:{operation}", arn)]
        key = gateway.secret_keys(secret_id) if operation == "GetSecretValue" else None
        if key is not None:  # Secrets Manager decrypts with the caller's permission on the key
            context = {
                "kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com",
                "kms:CallerAccount": ACCOUNT,
                "kms:EncryptionContext:SecretARN": arn,
            }
            checks.append(Check("kms:Decrypt", key, context, DEFAULT_KEY_POLICY))
        return checks
    if service == "ec2" and re.fullmatch(r"(Authorize|Revoke)SecurityGroup(Ingress|Egress)", operation):
        group = request.get("GroupId", "")
        return [Check(f"ec2:{operation}", f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{group}")]
    if service == "sts" and operation == "GetCallerIdentity":
        return []
    raise Unmapped(f"{service} {operation}")
