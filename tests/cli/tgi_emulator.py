"""A TGI-protocol peer on loopback with set timings, in two front-ends.

- :class:`TgiEmulator` speaks TGI's own streaming routes (``/v1/chat/completions``, ``/generate_stream``, and
  ``/`` and ``/invocations``, which pick by payload) with TGI's server-sent events (``data:{json}``, a usage
  chunk when asked, ``data: [DONE]``). Only streaming is emulated: that is all the tools send.
- :class:`SageMakerRuntimeEmulator` answers ``InvokeEndpointWithResponseStream`` the way the SageMaker runtime
  does: the same SSE bytes cut into ``PayloadPart`` events of the AWS event-stream wire format, modelled
  errors (``ValidationError`` no capacity, ``ModelError``, ``ModelStreamError`` and ``InternalStreamFailure``
  events). botocore parses it.

The chat route frames chunks TGI's way (every chunk a token, ``role`` on each) or, with ``framing="openai"``,
the way vLLM, SGLang and ``transformers serve`` do: a role-only chunk as soon as the request is read, one chunk
a token (``content``, or reasoning in ``reasoning_content``/``reasoning`` when a reasoning parser is on), a
finish chunk with an empty delta, then a usage-only chunk. Tokens leave at absolute times (request read + TTFT +
i x ITL), so what a client measures can be compared with what the emulator was set to. Failures are queued and
consumed one per request; the connection faults (``drop``, ``reset``, ``stall``) strike after three tokens.
"""

from __future__ import annotations

import binascii
import io
import json
import re
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

# drop: the server closes the connection (FIN, no end of the chunked body); reset: a TCP RST; stall: the server
# goes quiet with the connection open (for stall_s, or until the emulator closes)
ConnectionFault = Literal["drop", "reset", "stall"]
CONNECTION_FAULTS: tuple[ConnectionFault, ...] = ("drop", "reset", "stall")
SAGEMAKER_STREAM_FAILURES = ("internal_stream_failure", "corrupt_event")
Failure = Literal[
    "no_capacity",
    "status_500",
    "status_422",
    "stream_error",
    "internal_stream_failure",  # SageMaker front-end: its 5xx event mid-stream (TGI front-end: TGI's error event)
    "corrupt_event",  # SageMaker front-end: an event-stream message that fails its CRC (TGI front-end: as above)
    "truncate",
    "drop",
    "reset",
    "stall",
]
Framing = Literal["tgi", "openai"]
ReasoningField = Literal["reasoning_content", "reasoning"]  # SGLang and vLLM before 2026 / vLLM since January 2026
NO_CAPACITY_MESSAGE = (
    "Inference Component has no capacity to process this request. ApplicationAutoScaling may be in-progress "
    "(if configured) or try to increase the capacity by invoking UpdateInferenceComponentRuntimeConfig API."
)
R1_SCRIPT = ["Okay", ",", " the", " user", " asks", ".", " Let", " me", " think", ".", "\n", "</think>", "\n\n", "The"]
THINK_END = "</think>"
STRIKE_AFTER_TOKENS = 3


@dataclass
class Behaviour:
    ttft_s: float = 0.05
    itl_s: float = 0.01
    output_tokens: int = 20  # generated unless max_tokens asks for fewer
    script: list[str] = field(default_factory=lambda: list(R1_SCRIPT))  # token texts; the tail " word" repeats
    framing: Framing = "tgi"  # how the chat route frames its chunks
    reasoning_field: ReasoningField | None = None  # a reasoning parser: the thought in its own delta field
    token_counts: bool = True  # False: a server that sends neither usage nor details
    prompt_tokens_per_word: int = 1  # the emulated tokenizer: this many tokens a prompt word
    template_tokens: int = 0  # what a chat template adds to every prompt
    stall_s: float = 60.0
    # A crude model of a batching server, for examples only (every timing test leaves it at 0): a request's TTFT
    # and ITL grow by this share for each other request in flight when it arrives.
    slowdown_per_request_in_flight: float = 0.0
    in_flight: int = 0
    failures: deque[Failure | None] = field(default_factory=deque)  # None: served well
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_failure(self, body: dict[str, Any]) -> Failure | None:
        with self.lock:
            self.requests.append(body)
            return self.failures.popleft() if self.failures else None

    def token_texts(self, count: int) -> list[str]:
        return [self.script[i] if i < len(self.script) else " word" for i in range(count)]


class Strike:
    """Where in the stream the handler breaks the connection (or sends SageMaker's failure event)."""


STRIKE = Strike()


def input_length(behaviour: Behaviour, body: dict[str, Any]) -> int:
    """What the emulator reports as prompt tokens: by default one a word, like the bench's prompts."""
    if "messages" in body:
        text = " ".join(m["content"] for m in body["messages"])
    else:  # TGI's inputs, or an OpenAI completion's prompt
        text = body["inputs"] if "inputs" in body else body["prompt"]
    return behaviour.template_tokens + behaviour.prompt_tokens_per_word * len(text.split())


def sse_events(
    behaviour: Behaviour, body: dict[str, Any], started: float, failure: Failure | None
) -> Iterator[bytes | Strike]:
    """The server's event bytes for ``body``, each yielded at its due time; :data:`STRIKE` where a fault hits."""
    chat = "messages" in body
    if "prompt" in body:  # OpenAI completions (vLLM, SGLang): framed as they do, whatever behaviour.framing says
        yield from _completion_events(behaviour, body, started)
        return
    wanted = body.get("max_tokens") if chat else body.get("parameters", {}).get("max_new_tokens")
    count = min(behaviour.output_tokens, wanted or behaviour.output_tokens)
    finish = "length" if count == wanted else "eos_token"
    openai = chat and behaviour.framing == "openai"
    if openai:  # vLLM and SGLang send the role at once, before any token is generated
        yield _openai_chunk(behaviour, {"role": "assistant"})
    texts = behaviour.token_texts(count)
    with behaviour.lock:
        slowdown = 1 + behaviour.slowdown_per_request_in_flight * behaviour.in_flight
        behaviour.in_flight += 1
    try:
        yield from _timed_events(behaviour, body, texts, started, slowdown, failure, openai=openai, finish=finish)
    finally:
        with behaviour.lock:
            behaviour.in_flight -= 1


def _timed_events(
    behaviour: Behaviour,
    body: dict[str, Any],
    texts: list[str],
    started: float,
    slowdown: float,
    failure: Failure | None,
    *,
    openai: bool,
    finish: str,
) -> Iterator[bytes | Strike]:
    """Each token's event at its due time, then the stream's end as the route frames it."""
    chat, count = "messages" in body, len(texts)
    thinking = behaviour.reasoning_field is not None and chat
    for index, text in enumerate(texts):
        due = started + (behaviour.ttft_s + index * behaviour.itl_s) * slowdown
        time.sleep(max(0.0, due - time.perf_counter()))
        if failure == "stream_error" and index == 3:
            yield _data({"error": "Request failed during generation: CUDA out of memory", "error_type": "generation"})
            return
        if failure in (*CONNECTION_FAULTS, *SAGEMAKER_STREAM_FAILURES) and index == STRIKE_AFTER_TOKENS:
            yield STRIKE
            return
        last = index == count - 1
        if openai:
            delta, thinking = _openai_delta(behaviour, text, thinking=thinking)
            if delta:  # the parser swallows </think>: that token's step sends nothing
                yield _openai_chunk(behaviour, delta)
        elif chat:
            choice = {"index": 0, "delta": {"role": "assistant", "content": text}, "logprobs": None}
            choice["finish_reason"] = ("stop" if finish == "eos_token" else "length") if last else None
            event = {"object": "chat.completion.chunk", "id": "", "created": 0, "model": "/opt/ml/model"}
            yield _data(event | {"system_fingerprint": "3.3.6-native", "choices": [choice], "usage": None})
        else:
            details = {
                "finish_reason": finish,
                "generated_tokens": count,
                "input_length": input_length(behaviour, body),
            }
            yield _data(
                {
                    "index": index + 1,
                    "token": {"id": 100 + index, "text": text, "logprob": -0.1, "special": False},
                    "generated_text": "".join(texts) if last else None,
                    "details": details if last and behaviour.token_counts else None,
                }
            )
        if failure == "truncate" and index == 2:
            yield b'data:{"index":4,"tok'
            return
    if not chat:
        return
    if openai:
        yield _openai_chunk(behaviour, {}, finish_reason="stop" if finish == "eos_token" else "length")
    if (body.get("stream_options") or {}).get("include_usage") and behaviour.token_counts:
        usage = {"prompt_tokens": input_length(behaviour, body), "completion_tokens": count}
        usage["total_tokens"] = usage["prompt_tokens"] + count
        yield _data({"object": "chat.completion.chunk", "id": "", "created": 0, "choices": [], "usage": usage})
    yield b"data: [DONE]\n\n"  # axum 0.7 (TGI 3.x): a space after .data()'s colon, none after json_data's


def _completion_events(behaviour: Behaviour, body: dict[str, Any], started: float) -> Iterator[bytes]:
    """vLLM's completions stream: one ``text_completion`` chunk a token (no role chunk, no reasoning parser: the raw
    text, ``</think>`` included), a last token chunk with its finish reason, then a usage-only chunk when asked."""
    wanted = body.get("max_tokens")
    count = min(behaviour.output_tokens, wanted or behaviour.output_tokens)
    for index, text in enumerate(behaviour.token_texts(count)):
        time.sleep(max(0.0, started + behaviour.ttft_s + index * behaviour.itl_s - time.perf_counter()))
        finish = ("length" if count == wanted else "stop") if index == count - 1 else None
        choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish, "stop_reason": None}
        chunk = {"id": "cmpl-emulator", "object": "text_completion", "created": 0, "model": "emulator"}
        yield b"data: " + json.dumps(chunk | {"choices": [choice], "usage": None}).encode() + b"\n\n"
    if (body.get("stream_options") or {}).get("include_usage") and behaviour.token_counts:
        usage = {"prompt_tokens": input_length(behaviour, body), "completion_tokens": count}
        usage["total_tokens"] = usage["prompt_tokens"] + count
        chunk = {"id": "cmpl-emulator", "object": "text_completion", "created": 0, "model": "emulator"}
        yield b"data: " + json.dumps(chunk | {"choices": [], "usage": usage}).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"


def _openai_delta(behaviour: Behaviour, text: str, *, thinking: bool) -> tuple[dict[str, str], bool]:
    """One token's delta, and whether the thought is still open after it."""
    if not thinking:
        return {"content": text}, False
    if text == THINK_END:
        return {}, False
    assert behaviour.reasoning_field is not None
    return {behaviour.reasoning_field: text}, True


def _openai_chunk(behaviour: Behaviour, delta: dict[str, str], *, finish_reason: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
    chunk = {"id": "chatcmpl-emulator", "object": "chat.completion.chunk", "created": 0, "model": "emulator"}
    return b"data: " + json.dumps(chunk | {"choices": [choice], "usage": None}).encode() + b"\n\n"


def _data(payload: dict[str, Any]) -> bytes:
    return b"data:" + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


class _Server:
    handler: type[BaseHTTPRequestHandler]

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour or Behaviour()
        self.closing = threading.Event()  # ends a stall at once when the test is done
        handler = type("Handler", (self.handler,), {"emulator": self})
        server_type = type(  # a backlog of 5 (the default) would make a burst of connects wait ~1 s for SYN retries
            "Server", (ThreadingHTTPServer,), {"request_queue_size": 256, "handle_error": _quiet_on_disconnect}
        )
        self._server = server_type(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()


def _quiet_on_disconnect(server: ThreadingHTTPServer, request: Any, client_address: Any) -> None:
    """A client that gives up mid-stream (a read timeout, Ctrl-C) is normal here, not a traceback on stderr."""
    error = sys.exc_info()[1]
    if not isinstance(error, ConnectionError):
        ThreadingHTTPServer.handle_error(server, request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emulator: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def read_body(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        return body

    def send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def start_chunked(self, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()

    def write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def break_connection(self, fault: Failure | None) -> None:
        """``drop``: FIN without the end of the chunked body; ``reset``: RST; ``stall``: quiet, then a drop."""
        self.close_connection = True
        if fault == "stall":
            self.emulator.closing.wait(self.emulator.behaviour.stall_s)
        if fault == "reset":  # linger 0: close() sends RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.wfile.close()
            self.connection.close()
            self.wfile = io.BytesIO()  # BaseHTTPRequestHandler flushes wfile after do_POST: a sink, not the socket
            return
        self.connection.shutdown(socket.SHUT_RDWR)


class _TgiHandler(_Handler):
    def do_POST(self) -> None:
        if self.path not in ("/", "/v1/chat/completions", "/v1/completions", "/generate_stream", "/invocations"):
            self.send_json(404, {"error": f"no route {self.path}"})
            return
        started = time.perf_counter()
        body = self.read_body()
        behaviour = self.emulator.behaviour
        failure = behaviour.next_failure(body)
        if failure == "status_422":
            self.send_json(422, {"error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096"})
            return
        if failure in ("status_500", "no_capacity"):
            self.send_json(500, {"error": "Request failed during generation", "error_type": "generation"})
            return
        self.start_chunked("text/event-stream")
        for event in sse_events(behaviour, body, started, failure):
            if isinstance(event, Strike):
                if failure in SAGEMAKER_STREAM_FAILURES:  # TGI has no such thing: its own error event instead
                    self.write_chunk(_data({"error": "Internal stream failure", "error_type": "generation"}))
                    break
                self.break_connection(failure)
                return
            self.write_chunk(event)
        self.end_chunked()


class TgiEmulator(_Server):
    handler = _TgiHandler


class _SageMakerHandler(_Handler):
    def do_POST(self) -> None:
        match = re.fullmatch(r"/endpoints/([^/]+)/invocations-response-stream", self.path)
        if not match:
            self.send_json(404, {"message": f"no route {self.path}"})
            return
        started = time.perf_counter()
        body = self.read_body()
        emulator: SageMakerRuntimeEmulator = self.emulator  # type: ignore[assignment]
        if not self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 Credential="):
            self.send_error_shape(403, "InvalidSignatureException", "the request is not SigV4-signed")
            return
        component = self.headers.get("X-Amzn-SageMaker-Inference-Component")
        if match.group(1) != emulator.endpoint_name or component not in emulator.inference_components:
            message = f"Endpoint {match.group(1)} / inference component {component} not found."
            self.send_error_shape(400, "ValidationError", message)
            return
        failure = emulator.behaviour.next_failure(body)
        if failure == "no_capacity":
            self.send_error_shape(400, "ValidationError", NO_CAPACITY_MESSAGE)
            return
        if failure in ("status_500", "status_422"):
            status = 500 if failure == "status_500" else 422
            original = json.dumps({"error": "Request failed during generation", "error_type": "generation"})
            self.send_json(
                424,
                {
                    "ErrorCode": "CLIENT_ERROR_FROM_MODEL" if status < 500 else "SERVER_ERROR_FROM_MODEL",
                    "Message": f'Received server error ({status}) from primary with message "{original}".',
                    "OriginalMessage": original,
                    "OriginalStatusCode": status,
                },
                {"x-amzn-ErrorType": "ModelError:http://internal.amazon.com/coral/com.amazon.sagemaker/"},
            )
            return
        self.start_chunked(
            "application/vnd.amazon.eventstream",
            {"X-Amzn-SageMaker-Content-Type": "text/event-stream", "x-Amzn-Invoked-Production-Variant": "AllTraffic"},
        )
        for event in sse_events(emulator.behaviour, body, started, failure):
            if isinstance(event, Strike):
                if failure == "internal_stream_failure":
                    message = json.dumps({"Message": "Internal stream failure. Try your request again."})
                    self.write_chunk(encode_event(exception="InternalStreamFailure", payload=message.encode()))
                    break
                if failure == "corrupt_event":
                    damaged = bytearray(encode_event(payload=b"data:{}\n\n"))
                    damaged[-1] ^= 0xFF  # the message CRC no longer matches
                    self.write_chunk(bytes(damaged))
                    break
                self.break_connection(failure)
                return
            if event.startswith(b'data:{"error"'):
                error = {"Message": json.loads(event[5:])["error"], "ErrorCode": "ModelStreamError"}
                self.write_chunk(encode_event(exception="ModelStreamError", payload=json.dumps(error).encode()))
                break
            # SageMaker cuts the container's bytes wherever its reads end: split each event to prove reassembly
            cut = len(event) // 2 if emulator.split_events else len(event)
            for part in (event[:cut], event[cut:]):
                if part:
                    self.write_chunk(encode_event(payload=part))
        self.end_chunked()

    def send_error_shape(self, status: int, code: str, message: str) -> None:
        self.send_json(status, {"message": message}, {"x-amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/"})


class SageMakerRuntimeEmulator(_Server):
    handler = _SageMakerHandler

    def __init__(
        self,
        behaviour: Behaviour | None = None,
        *,
        endpoint_name: str = "tgi-endpoint",
        inference_component: str | None = "tgi-component",
        other_components: tuple[str, ...] = (),
        split_events: bool = True,
    ) -> None:
        """``other_components``: more inference components on the same endpoint name (a shared endpoint), served
        with the same behaviour. Default: none."""
        self.endpoint_name = endpoint_name
        self.inference_component = inference_component
        self.inference_components = (inference_component, *other_components)
        self.split_events = split_events
        super().__init__(behaviour)


def encode_event(*, payload: bytes, exception: str | None = None) -> bytes:
    """One message of the AWS event-stream format: prelude, prelude CRC, string headers, payload, message CRC."""
    if exception:
        headers = {":message-type": "exception", ":exception-type": exception, ":content-type": "application/json"}
    else:
        headers = {":message-type": "event", ":event-type": "PayloadPart", ":content-type": "application/octet-stream"}
    encoded = b"".join(
        struct.pack("B", len(name)) + name.encode() + b"\x07" + struct.pack(">H", len(value)) + value.encode()
        for name, value in headers.items()
    )
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    message = prelude + struct.pack(">I", binascii.crc32(prelude)) + encoded + payload
    return message + struct.pack(">I", binascii.crc32(message))
