"""Two ways to reach TGI: SageMaker runtime streaming (boto3) and a plain TGI base URL (stdlib HTTP).

A transport sends one JSON body and yields the response's raw bytes as they arrive; the caller decodes the
server-sent events. Every failure, before the response or mid-stream (a dropped, reset or stalled connection, a
failure event), becomes one of two exceptions: :class:`NoCapacity` (a scaled-to-zero inference component: wait
and retry) and :class:`EndpointError` (everything else, with the server's or the socket's message). Nothing
else escapes a transport, so a caller can record a failed request and go on.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
from collections.abc import Iterator
from typing import Any, Protocol
from urllib.parse import urlsplit

from tgi_sagemaker.cli.client.payloads import Api

NO_CAPACITY = re.compile(r"no capacity", re.IGNORECASE)
MID_STREAM = "connection broken mid-stream"
TGI_ROUTES: dict[Api, str] = {
    "messages": "/v1/chat/completions",
    "generate": "/generate_stream",
    "completions": "/v1/completions",  # vLLM's and SGLang's OpenAI route for a raw prompt
}


class NoCapacity(Exception):
    """The inference component has no copy running (scaled to zero); SageMaker is provisioning one."""


class EndpointError(Exception):
    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Transport(Protocol):
    @property
    def target(self) -> str:
        """What is being called, for humans (endpoint name or URL)."""
        ...

    def stream(self, api: Api, body: dict[str, Any]) -> Iterator[bytes]: ...


class TgiUrlTransport:
    """POSTs to TGI's own routes under a base URL (``http://host:8080``); one connection a request."""

    def __init__(self, base_url: str, *, timeout_s: float = 300.0, label: str | None = None) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--url = {base_url!r}: not an http(s) URL. Fix: pass e.g. http://127.0.0.1:8080")
        self._parts = parts
        self._timeout_s = timeout_s
        self._label = label

    @property
    def target(self) -> str:
        return self._label or self._parts.geturl()

    def stream(self, api: Api, body: dict[str, Any]) -> Iterator[bytes]:
        connection_type = http.client.HTTPSConnection if self._parts.scheme == "https" else http.client.HTTPConnection
        connection = connection_type(self._parts.hostname or "", self._parts.port, timeout=self._timeout_s)
        streaming = False
        try:
            connection.request(
                "POST",
                self._parts.path.rstrip("/") + TGI_ROUTES[api],
                body=json.dumps(body).encode(),
                headers={"Content-Type": "application/json", "Accept": "text/event-stream"},
            )
            response = connection.getresponse()
            if response.status >= 400:
                raise EndpointError(_tgi_error(response.status, response.read()), status=response.status)
            streaming = True
            while chunk := response.read1(65536):
                yield chunk
        except (OSError, http.client.HTTPException) as error:  # socket.timeout is an OSError: a stall ends here
            raise EndpointError(f"{self.target}: {self._failure(error, streaming=streaming)}") from error
        finally:
            connection.close()

    def _failure(self, error: Exception, *, streaming: bool) -> str:
        """The socket's words, and for the failures a user can fix (a timeout, nothing listening, a host name
        that does not resolve) the fix."""
        said = f"{type(error).__name__}: {error}"
        if isinstance(error, TimeoutError):  # nothing came for timeout_s: a slow first token is no dropped link
            return read_timed_out(self._timeout_s, streaming=streaming, said=said)
        if isinstance(error, ConnectionRefusedError):
            return f"{said}. Fix: is the server running, and listening at this URL (host and port)?"
        if isinstance(error, socket.gaierror):
            return f"{said}. Fix: check the URL's host name ({self._parts.hostname})"
        return f"{MID_STREAM}: {said}" if streaming else said


class SageMakerTransport:
    """``InvokeEndpointWithResponseStream`` through a boto3 ``sagemaker-runtime`` client you pass in.

    Build the client with retries off (``max_attempts=1``) when measuring, so a throttled request counts as an
    error instead of hiding its retries inside the latency.
    """

    def __init__(
        self, client: Any, endpoint_name: str, *, inference_component: str | None = None, label: str | None = None
    ) -> None:
        self._client = client
        self._endpoint_name = endpoint_name
        self._label = label
        self._inference_component = inference_component

    @property
    def endpoint_name(self) -> str:
        return self._endpoint_name

    @property
    def inference_component(self) -> str | None:
        return self._inference_component

    @property
    def target(self) -> str:
        if self._label:
            return self._label
        if self._inference_component:
            return f"{self._endpoint_name}/{self._inference_component}"
        return self._endpoint_name

    def stream(self, api: Api, body: dict[str, Any]) -> Iterator[bytes]:
        from botocore.eventstream import ParserError
        from botocore.exceptions import BotoCoreError, ClientError
        from botocore.exceptions import ReadTimeoutError as BotoReadTimeout
        from urllib3.exceptions import HTTPError as Urllib3Error
        from urllib3.exceptions import ReadTimeoutError

        request: dict[str, Any] = {
            "EndpointName": self._endpoint_name,
            "Body": json.dumps(body).encode(),
            "ContentType": "application/json",
            "Accept": "text/event-stream",
        }
        if self._inference_component:
            request["InferenceComponentName"] = self._inference_component
        streaming = False
        try:
            response = self._client.invoke_endpoint_with_response_stream(**request)
            streaming = True
            for event in response["Body"]:
                if "PayloadPart" in event:
                    yield event["PayloadPart"]["Bytes"]
                else:  # the parser raises on the modelled error events; anything else is unexpected
                    raise EndpointError(f"{self.target}: unexpected stream event {sorted(event)}")
        except ClientError as error:
            info = error.response.get("Error", {})
            message = f"{self.target}: {info.get('Code')}: {info.get('Message')}"
            if info.get("Code") == "ValidationError" and NO_CAPACITY.search(str(info.get("Message"))):
                raise NoCapacity(message) from error
            status = error.response.get("OriginalStatusCode") or error.response.get("ResponseMetadata", {}).get(
                "HTTPStatusCode"
            )
            raise EndpointError(message, status=status) from error
        except (BotoReadTimeout, ReadTimeoutError) as error:  # botocore's before a response, urllib3's mid-stream
            said = f"{type(error).__name__}: {error}"
            timeout_s = self._client.meta.config.read_timeout  # the client's: the --timeout it was made with
            message = read_timed_out(timeout_s, streaming=streaming, said=said)
            raise EndpointError(f"{self.target}: {message}") from error
        except BotoCoreError as error:
            raise EndpointError(f"{self.target}: {error}") from error
        except (Urllib3Error, OSError) as error:
            # botocore wraps urllib3's errors while it sends the request, not while the event stream is read:
            # a drop (ProtocolError) or a reset mid-stream arrives here unwrapped
            raise EndpointError(f"{self.target}: {MID_STREAM}: {type(error).__name__}: {error}") from error
        except ParserError as error:  # a damaged event-stream message (a CRC or a length that does not add up)
            raise EndpointError(f"{self.target}: corrupt event stream: {type(error).__name__}: {error}") from error


def read_timed_out(timeout_s: float, *, streaming: bool, said: str) -> str:
    """A read that waited ``timeout_s`` for data: the --timeout ran out, which a slow first token (a long prompt, a
    busy server) does as well as a stalled stream; named, with how to raise it, rather than a dropped connection."""
    when = "mid-stream" if streaming else "before a response"
    return (
        f"no data for {timeout_s:g} s, the --timeout, {when} ({said}). "
        "Fix: a larger --timeout if the server is just slow (a long prompt, a busy server)"
    )


def _tgi_error(status: int, body: bytes) -> str:
    try:
        payload = json.loads(body)
        message = payload.get("error") or payload.get("message") or body.decode(errors="replace")
    except (ValueError, AttributeError):
        message = body.decode(errors="replace")
    return f"HTTP {status}: {str(message)[:500]}"


def sagemaker_runtime_client(*, region: str | None, endpoint_url: str | None, read_timeout_s: float) -> Any:
    """A ``sagemaker-runtime`` client that does not retry behind the caller's back.

    Raises ValueError, with the fix, when no region is given and none is configured.
    """
    import boto3
    from botocore.config import Config
    from botocore.exceptions import NoRegionError

    config = Config(
        read_timeout=read_timeout_s, retries={"mode": "standard", "max_attempts": 1}, max_pool_connections=64
    )
    try:
        return boto3.client("sagemaker-runtime", region_name=region, endpoint_url=endpoint_url, config=config)
    except NoRegionError:
        raise ValueError(
            "--region not given and no AWS region configured. Fix: pass --region (e.g. --region us-east-1, the "
            "endpoint's region) or set AWS_REGION or a region in your AWS profile"
        ) from None
