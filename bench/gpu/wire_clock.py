"""A timestamping proxy between a benchmark client and an OpenAI-style server: the wire's own clock for each request.

Every request passes through unchanged; for each one the proxy notes (time.perf_counter, CLOCK_MONOTONIC, which
every process on the machine shares; and time.time for matching runs) when its first byte arrived from the client,
when the first server event carrying text (``choices[0].delta.content`` not empty) arrived from the server, when
the last such event did, how many there were, and the server's usage. A client's figures minus the wire's for the
same request are that client's own overhead (its send, its parsing, its threads), free of the server's drift:
what two clients measured in different runs can be compared through it.

The proxy reads the bytes only to time them (HTTP/1.1 with Content-Length requests and chunked or Content-Length
responses; keep-alive connections carry one request after another). One line of JSON a request to the log file.

    python3 wire_clock.py LISTEN_PORT UPSTREAM_PORT LOG_FILE
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class WireRequest:
    sent_wall: float  # time.time() of its first byte
    sent: float  # perf_counter() of its first byte
    seed: int | None = None
    max_tokens: int | None = None
    prompt_sha1: str = ""
    first_text: float | None = None
    last_text: float | None = None
    text_events: int = 0
    completion_tokens: int | None = None
    prompt_tokens: int | None = None
    done: float | None = None
    status: int | None = None
    _events: bytearray = field(default_factory=bytearray, repr=False)

    def record(self) -> dict[str, Any]:
        row = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        if self.first_text is not None:
            row["ttft_s"] = self.first_text - self.sent
            tokens = self.completion_tokens or self.text_events
            if self.last_text is not None and tokens > 1:
                row["itl_s"] = (self.last_text - self.first_text) / (tokens - 1)
        if self.done is not None:
            row["e2e_s"] = self.done - self.sent
        return row


class RequestReader:
    """Client to server: finds where each request starts and reads its JSON body."""

    def __init__(self, pending: deque[WireRequest]) -> None:
        self.pending = pending
        self.buffer = bytearray()
        self.current: WireRequest | None = None
        self.body_left: int | None = None

    def feed(self, data: bytes, now: float, wall: float) -> None:
        self.buffer += data
        while self.buffer:
            if self.current is None:
                self.current = WireRequest(sent_wall=wall, sent=now)
            if self.body_left is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self.buffer[:end]).decode("latin-1").lower()
                length = 0
                for line in head.split("\r\n")[1:]:
                    if line.startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                del self.buffer[: end + 4]
                self.body_left = length
                self.body = bytearray()
            take = min(self.body_left, len(self.buffer))
            self.body += self.buffer[:take]
            del self.buffer[:take]
            self.body_left -= take
            if self.body_left:
                return
            self._parse_body(self.current, bytes(self.body))
            self.pending.append(self.current)
            self.current, self.body_left = None, None

    @staticmethod
    def _parse_body(request: WireRequest, body: bytes) -> None:
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return
        request.seed = payload.get("seed")
        request.max_tokens = payload.get("max_tokens") or payload.get("max_completion_tokens")
        text = json.dumps(payload.get("messages") or payload.get("prompt") or payload.get("inputs"), sort_keys=True)
        request.prompt_sha1 = hashlib.sha1(text.encode()).hexdigest()[:16]


class ResponseReader:
    """Server to client: the response's status, its body (chunked or by length) as SSE events, timed."""

    def __init__(self, pending: deque[WireRequest], log: Any) -> None:
        self.pending = pending
        self.log = log
        self.buffer = bytearray()
        self.state = "head"
        self.left = 0
        self.chunked = False

    def feed(self, data: bytes, now: float) -> None:
        self.buffer += data
        while True:
            if self.state == "head":
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self.buffer[:end]).decode("latin-1").lower().split("\r\n")
                del self.buffer[: end + 4]
                request = self.pending[0]
                request.status = int(head[0].split()[1])
                headers = dict(line.split(":", 1) for line in head[1:] if ":" in line)
                self.chunked = "chunked" in headers.get("transfer-encoding", "")
                self.left = int(headers.get("content-length", "0").strip() or 0)
                self.state = "size" if self.chunked else "body"
            elif self.state == "size":
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    return
                self.left = int(bytes(self.buffer[:end]).split(b";")[0], 16)
                del self.buffer[: end + 2]
                self.state = "chunk" if self.left else "trailer"
            elif self.state in ("chunk", "body"):
                take = min(self.left, len(self.buffer))
                if take == 0 and self.left:
                    return
                self._events(self.buffer[:take], now)
                del self.buffer[:take]
                self.left -= take
                if self.left:
                    return
                if self.state == "body":
                    self._finish(now)
                else:
                    self.state = "chunk-end"
            elif self.state == "chunk-end":
                if len(self.buffer) < 2:
                    return
                del self.buffer[:2]
                self.state = "size"
            elif self.state == "trailer":
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    return
                del self.buffer[: end + 2]
                if end == 0:
                    self._finish(now)

    def _events(self, data: bytes, now: float) -> None:
        request = self.pending[0]
        request._events += data
        while (end := request._events.find(b"\n\n")) >= 0:
            event = bytes(request._events[:end])
            del request._events[: end + 2]
            for line in event.split(b"\n"):
                if not line.startswith(b"data:") or line[5:].strip() == b"[DONE]":
                    continue
                try:
                    chunk = json.loads(line[5:])
                except ValueError:
                    continue
                usage = chunk.get("usage") or {}
                if usage:
                    request.completion_tokens = usage.get("completion_tokens")
                    request.prompt_tokens = usage.get("prompt_tokens")
                for choice in chunk.get("choices") or ():
                    if (choice.get("delta") or {}).get("content"):
                        request.text_events += 1
                        request.first_text = request.first_text or now
                        request.last_text = now

    def _finish(self, now: float) -> None:
        request = self.pending.popleft()
        request.done = now
        self.log.write(json.dumps(request.record()) + "\n")
        self.log.flush()
        self.state = "head"


async def serve(listen_port: int, upstream_port: int, log_path: str) -> None:
    log = open(log_path, "a")  # noqa: SIM115 - open for the proxy's life

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        pending: deque[WireRequest] = deque()
        requests, responses = RequestReader(pending), ResponseReader(pending, log)

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, upstream: bool) -> None:
            try:
                while data := await reader.read(65536):
                    now, wall = time.perf_counter(), time.time()
                    writer.write(data)  # forward first: the timing never delays the bytes
                    if upstream:
                        requests.feed(data, now, wall)
                    else:
                        responses.feed(data, now)
                    await writer.drain()
            except (ConnectionError, IndexError, ValueError) as error:
                print(f"wire_clock: {type(error).__name__}: {error}", file=sys.stderr)
            finally:
                writer.close()

        await asyncio.gather(
            pipe(client_reader, upstream_writer, True), pipe(upstream_reader, client_writer, False)
        )

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]))
