"""The Python Lambda runtime of the rehearsal: one function's code, the libraries the Lambda runtime provides, and
nothing else.

Started as ``python -I -S python_bootstrap.py TASK_ROOT RUNTIME_LIBRARIES`` (isolated, no site-packages), with
exactly the function's environment. It resolves host names through the rehearsal's routes only, imports the handler
once (the init phase), then answers invocations read from one pipe on another (``_REHEARSAL_FDS``), one JSON
document a line, as the Lambda runtime API would: the handler's return value, or ``errorType``/``errorMessage``/
``stackTrace``.
"""

import importlib
import json
import logging
import os
import socket
import sys
import time
import traceback

TASK_ROOT, RUNTIME_LIBRARIES = sys.argv[1], sys.argv[2]
sys.path[:0] = [TASK_ROOT, RUNTIME_LIBRARIES]
ROUTES = json.loads(os.environ.pop("_REHEARSAL_ROUTES"))
REQUESTS_FD, RESPONSES_FD = map(int, os.environ.pop("_REHEARSAL_FDS").split(","))
_real_getaddrinfo = socket.getaddrinfo


def _matches(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and "." not in host[: -len(pattern) + 1]
    return host == pattern


def _getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # type: ignore[no-untyped-def]
    name = host.decode() if isinstance(host, bytes) else str(host)
    try:
        socket.inet_aton(name)
        return _real_getaddrinfo(host, port, family, type, proto, flags)
    except OSError:
        pass
    for pattern, ip, routed_port in ROUTES:
        if _matches(pattern, name.lower()):
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, routed_port))]
    raise socket.gaierror(socket.EAI_NONAME, f"{name}: not a host of the rehearsal's network")


socket.getaddrinfo = _getaddrinfo


class _Context:
    def __init__(self, request: dict) -> None:  # type: ignore[type-arg]
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.invoked_function_arn = request["function_arn"]
        self.aws_request_id = request["request_id"]
        self._deadline = time.monotonic() + request["timeout_ms"] / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error(error: BaseException) -> dict:  # type: ignore[type-arg]
    return {
        "errorType": type(error).__name__,
        "errorMessage": str(error),
        "stackTrace": traceback.format_tb(error.__traceback__),
    }


def main() -> None:
    logging.basicConfig(stream=sys.stdout, format="[%(levelname)s]\t%(asctime)s\t%(message)s", level=logging.WARNING)
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    handler = None
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as error:  # Lambda reports an init failure on every invocation
        init_error = _error(error)
        init_error["errorType"] = f"Runtime.ImportModuleError: {init_error['errorType']}"
    responses = os.fdopen(RESPONSES_FD, "w", buffering=1)
    for line in os.fdopen(REQUESTS_FD, "r"):
        request = json.loads(line)
        if handler is None:
            responses.write(json.dumps({"error": init_error}) + "\n")
            continue
        try:
            result = handler(request["event"], _Context(request))
        except Exception as error:
            responses.write(json.dumps({"error": _error(error)}) + "\n")
            continue
        try:
            responses.write(json.dumps({"result": result}) + "\n")
        except TypeError as error:  # what Lambda does with a return value JSON cannot carry
            responses.write(json.dumps({"error": {**_error(error), "errorType": "Runtime.MarshalError"}}) + "\n")
        sys.stdout.flush()


main()
