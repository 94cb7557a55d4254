"""Lambda as the rehearsal runs it: each function from its template entry (code folder, handler, runtime, timeout,
memory, environment, role), each invocation in a process of that function's own, warm processes reused.

What a function process gets is what Lambda gives it: the asset folder as a read-only task root, the libraries of its
runtime (boto3 for Python, the AWS SDK v3 for Node.js), exactly the template's environment plus the variables the
Lambda runtime sets (region, function name, memory, log group, the role's session credentials), and the rehearsal's
network (``network.py``). Nothing from the test process leaks in: a missing variable, module or file fails there
as it would in AWS.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from rehearsal.iam import Principal
from rehearsal.network import ACCOUNT, REGION, Network

HERE = Path(__file__).resolve().parent
NODE_RUNTIME_MODULES = HERE / "runtimes" / "nodejs" / "node_modules"
# What the Python runtimes of Lambda provide beside the standard library.
PYTHON_RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")
SUPPORTED_RUNTIMES = ("python3.", "nodejs")
MAX_PROCESSES = 24  # Lambda scales further; two cores do not


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    handler: str
    runtime: str
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, str]
    code: Path
    role: Principal
    log_group: str

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.name}"


@dataclass
class Invocation:
    function: str
    request_id: str
    event: Any
    result: Any = None
    error: dict[str, Any] | None = None
    seconds: float = 0.0


@dataclass
class _Function:
    spec: FunctionSpec
    task_root: Path
    idle: list[_Worker] = field(default_factory=list)
    log: list[str] = field(default_factory=list)


class LambdaError(Exception):
    pass


class LambdaService:
    def __init__(self, folder: Path, network: Network, credentials: Any) -> None:
        self.folder = folder
        self.network = network
        self.credentials = credentials  # role principal -> (access key, secret, session token)
        self.functions: dict[str, _Function] = {}
        self.invocations: list[Invocation] = []
        self._lock = threading.Lock()
        self._processes = threading.BoundedSemaphore(MAX_PROCESSES)
        self._python_libraries = self._python_runtime_libraries()
        self._workers: set[_Worker] = set()  # every process started, busy or idle
        self._ids = itertools.count(1)

    # --- functions -------------------------------------------------------------------------------------------
    def create_function(self, spec: FunctionSpec) -> None:
        if not spec.runtime.startswith(SUPPORTED_RUNTIMES):
            raise LambdaError(f"{spec.logical_id}: runtime {spec.runtime} is not one the rehearsal runs")
        if spec.name in self.functions:
            raise LambdaError(f"Function already exist: {spec.name}")
        task_root = self.folder / "task" / spec.name
        if task_root.exists():  # an update in place: the new code replaces the old
            _writable(task_root)
            shutil.rmtree(task_root)
        shutil.copytree(spec.code, task_root)
        _read_only(task_root)  # /var/task is read-only in Lambda
        self.functions[spec.name] = _Function(spec, task_root)

    def delete_function(self, name: str) -> None:
        function = self.functions.pop(name, None)
        if function is not None:
            for worker in function.idle:
                worker.stop()
            _writable(function.task_root)

    def function(self, name_or_arn: str) -> FunctionSpec:
        return self._function(name_or_arn).spec

    def logs(self, name_or_arn: str | None = None) -> list[str]:
        """What the functions wrote (their CloudWatch Logs): one function's, or every function's."""
        if name_or_arn is not None:
            return list(self._function(name_or_arn).log)
        return [line for function in self.functions.values() for line in function.log]

    def _function(self, name_or_arn: str) -> _Function:
        name = name_or_arn.split(":function:", 1)[-1].split(":", 1)[0]
        try:
            return self.functions[name]
        except KeyError:
            raise LambdaError(f"Function not found: {name_or_arn}") from None

    # --- invocations -----------------------------------------------------------------------------------------
    def invoke(self, name_or_arn: str, event: Any) -> Invocation:
        """A synchronous invocation: the handler's result, or its error as Lambda reports it."""
        function = self._function(name_or_arn)
        invocation = Invocation(function.spec.name, str(uuid.uuid4()), event)
        started = time.monotonic()
        worker = self._worker(function)
        try:
            answer = worker.call(
                {
                    "event": event,
                    "request_id": invocation.request_id,
                    "function_arn": function.spec.arn,
                    "timeout_ms": function.spec.timeout_seconds * 1000,
                },
                function.spec.timeout_seconds,
            )
        except _WorkerLost as lost:
            worker.stop()
            invocation.error = lost.error
        else:
            with self._lock:
                function.idle.append(worker)
            invocation.result, invocation.error = answer.get("result"), answer.get("error")
        invocation.seconds = time.monotonic() - started
        with self._lock:
            self.invocations.append(invocation)
        return invocation

    def invoke_async(self, name_or_arn: str, event: Any, retry_delay: float) -> threading.Thread:
        """An asynchronous invocation (how CloudFormation calls a custom resource's function): Lambda retries a
        failed one twice."""

        def run() -> None:
            for attempt in range(3):
                if self.invoke(name_or_arn, event).error is None:
                    return
                if attempt < 2:
                    time.sleep(retry_delay * (attempt + 1))

        thread = threading.Thread(target=run, daemon=True, name=f"async {name_or_arn}")
        thread.start()
        return thread

    # --- the API (through the AWS gateway, after IAM) ------------------------------------------------------
    def __call__(
        self, principal: Principal, operation: str, request: dict[str, Any]
    ) -> tuple[int, dict[str, str], bytes]:
        name = unquote(urlsplit(request["path"]).path.split("/")[3])
        try:
            function = self._function(name)
        except LambdaError as missing:
            body = json.dumps({"Type": "User", "message": str(missing)}).encode()
            return 404, {"x-amzn-ErrorType": "ResourceNotFoundException", "Content-Type": "application/json"}, body
        if operation == "GetFunction":
            configuration = {
                "FunctionName": function.spec.name,
                "FunctionArn": function.spec.arn,
                "Runtime": function.spec.runtime,
                "Handler": function.spec.handler,
                "State": "Active",
                "LastUpdateStatus": "Successful",
            }
            return 200, {"Content-Type": "application/json"}, json.dumps({"Configuration": configuration}).encode()
        headers = {name.lower(): value for name, value in request["headers"].items()}
        event = json.loads(request["body"] or b"{}")
        kind = headers.get("x-amz-invocation-type", "RequestResponse")
        if kind == "Event":
            self.invoke_async(function.spec.name, event, retry_delay=1.0)
            return 202, {}, b""
        if kind != "RequestResponse":
            return 400, {"x-amzn-ErrorType": "InvalidParameterValueException"}, b"{}"
        invocation = self.invoke(function.spec.name, event)
        answer = {"X-Amz-Executed-Version": "$LATEST", "Content-Type": "application/json"}
        if invocation.error is not None:
            return 200, {**answer, "X-Amz-Function-Error": "Unhandled"}, json.dumps(invocation.error).encode()
        return 200, answer, json.dumps(invocation.result).encode()

    def _worker(self, function: _Function) -> _Worker:
        with self._lock:
            if function.idle:
                return function.idle.pop()
        while not self._processes.acquire(timeout=0.05):
            with self._lock:  # Lambda recycles idle environments too: stop another function's idle one
                idle = next((f.idle.pop(0) for f in self.functions.values() if f.idle), None)
            if idle is not None:
                idle.stop()
        worker = _Worker(function, self._environment(function), self._python_libraries, self._processes)
        with self._lock:
            self._workers.add(worker)
        return worker

    def _environment(self, function: _Function) -> dict[str, str]:
        spec = function.spec
        access_key, secret_key, token = self.credentials(spec.role)
        provided = {
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": f"2026/12/01/[$LATEST]{uuid.uuid4().hex}",
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_SESSION_TOKEN": token,
            "LAMBDA_TASK_ROOT": str(function.task_root),
            "_HANDLER": spec.handler,
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.folder),
        }
        if spec.runtime.startswith("nodejs"):
            provided["NODE_PATH"] = str(NODE_RUNTIME_MODULES)
        reserved = sorted(set(spec.environment) & set(provided))
        if reserved:
            raise LambdaError(f"{spec.logical_id}: reserved environment variables {reserved}")
        return {**spec.environment, **provided, **self.network.process_environment()}

    def _python_runtime_libraries(self) -> Path:
        folder = self.folder / "python-runtime"
        folder.mkdir(parents=True, exist_ok=True)
        site = Path(__import__("boto3").__file__).resolve().parents[1]
        for name in PYTHON_RUNTIME_PACKAGES:
            (folder / name).symlink_to(site / name)
        return folder

    def close(self) -> None:
        """Stop every function process, busy ones too (a copy still crawling when its test ends)."""
        for worker in list(self._workers):
            worker.stop()
        for function in self.functions.values():
            _writable(function.task_root)


class _WorkerLost(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["errorMessage"])
        self.error = error


class _Worker:
    """One warm execution environment of a function."""

    def __init__(
        self,
        function: _Function,
        environment: dict[str, str],
        python_libraries: Path,
        slots: threading.BoundedSemaphore,
    ) -> None:
        spec = function.spec
        self._slots: threading.BoundedSemaphore | None = slots
        requests_read, self._requests = os.pipe()
        self._responses, responses_write = os.pipe()
        if spec.runtime.startswith("python"):
            command = [
                sys.executable,
                "-I",
                "-S",
                str(HERE / "runtimes" / "python_bootstrap.py"),
                str(function.task_root),
                str(python_libraries),
            ]
        else:
            command = ["node", str(HERE / "runtimes" / "node_bootstrap.js"), str(function.task_root)]

        self.process = subprocess.Popen(
            command,
            env={**environment, "_REHEARSAL_FDS": f"{requests_read},{responses_write}"},
            cwd=function.task_root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(requests_read, responses_write),
        )
        os.close(requests_read)
        os.close(responses_write)
        self._reader = os.fdopen(self._responses, "r")
        self._writer = os.fdopen(self._requests, "w", buffering=1)
        self._log = function.log
        threading.Thread(target=self._collect_log, daemon=True).start()

    def _collect_log(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._log.append(line.decode(errors="replace").rstrip("\n"))

    def call(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        answer: list[str] = []
        reader = threading.Thread(target=lambda: answer.append(self._reader.readline()), daemon=True)
        try:
            self._writer.write(json.dumps(request) + "\n")
        except BrokenPipeError:
            raise _WorkerLost(self._exit_error()) from None
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            raise _WorkerLost(
                {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"Task timed out after {timeout:.2f} seconds",
                }
            )
        if not answer or not answer[0]:
            raise _WorkerLost(self._exit_error())
        response: dict[str, Any] = json.loads(answer[0])
        return response

    def _exit_error(self) -> dict[str, Any]:
        code = self.process.wait(timeout=5)
        tail = "\n".join(self._log[-20:])
        return {"errorType": "Runtime.ExitError", "errorMessage": f"exited with {code}: {tail}"}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        slots, self._slots = self._slots, None
        if slots is not None:
            slots.release()
        for stream in (self._reader, self._writer):
            with contextlib.suppress(OSError):
                stream.close()


def _writable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def _read_only(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
