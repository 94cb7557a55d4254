"""A small HTTP/1.1 client on the standard library: one keep-alive connection per host and thread, no redirects
followed (the copier reads them). ``open`` hands out the status and headers before any of the body is read, so a
caller can refuse a body it did not ask for (a 200 with a whole shard to a range request) without reading it;
``get`` reads bodies whole. Bodies are checked against Content-Length."""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from weights_copy.errors import CopyCancelled, CopyError, TransientError

DEFAULT_TIMEOUT = 60.0
READ_CHUNK = 1024 * 1024
DRAIN_LIMIT = 64 * 1024
"""An unread body up to this size is read and dropped to keep the connection; a larger one closes it instead."""
_UNSENDABLE = re.compile(r"[^\t\x20-\x7e\xa0-\xff]")  # what a header value can hold: printable Latin-1 and tabs
_NETWORK_ERRORS = (TimeoutError, http.client.HTTPException, OSError)
_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)", re.IGNORECASE)


@dataclass(frozen=True)
class ContentRange:
    """``Content-Range: bytes first-last/total`` (a 206), or ``bytes */total`` (a 416); None where unknown."""

    first: int | None
    last: int | None
    total: int | None

    @classmethod
    def parse(cls, value: str | None) -> ContentRange | None:
        match = _CONTENT_RANGE.fullmatch((value or "").strip())
        if match is None:
            return None
        first, last, total = match.groups()
        return cls(int(first) if first else None, int(last) if last else None, int(total) if total != "*" else None)


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Answer(Protocol):
    """What a response says before its body: a ``Response`` or an ``OpenResponse``."""

    @property
    def status(self) -> int: ...

    def header(self, name: str) -> str | None: ...


class OpenResponse:
    """A response whose status and headers have arrived and whose body has not been read (yet)."""

    def __init__(self, client: HttpClient, raw: http.client.HTTPResponse, key: tuple[str, str], what: str) -> None:
        self.status = raw.status
        self.headers = {name.lower(): value for name, value in raw.getheaders()}
        self._client, self._raw, self._key, self._what = client, raw, key, what
        self._read = False

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def content_length(self) -> int | None:
        value = self.header("content-length")
        return int(value) if value is not None and value.strip().isdigit() else None

    def read(self, max_bytes: int | None = None) -> bytes:
        """The whole body, checked against Content-Length; more than ``max_bytes`` is refused (a CopyError), and
        then only ``max_bytes + 1`` are read when the length is not announced."""
        length = self.content_length
        if max_bytes is not None and length is not None and length > max_bytes:
            raise CopyError(f"{self._what}: a body of {length} bytes, more than the {max_bytes} expected: not read")
        self._read = True
        try:
            body = self._exactly(length) if length is not None else self._to_end(max_bytes)
        except _NETWORK_ERRORS as error:
            self._client._drop(*self._key)
            self._client.check_cancelled(self._what)
            raise TransientError(f"{self._what}: {type(error).__name__}: {error}") from error
        if length is not None and len(body) != length:
            self._client._drop(*self._key)
            self._client.check_cancelled(self._what)
            raise TransientError(f"{self._what}: {len(body)} of {length} bytes arrived")
        if max_bytes is not None and len(body) > max_bytes:
            self._client._drop(*self._key)
            raise CopyError(f"{self._what}: a body of more than the {max_bytes} bytes expected: not read further")
        return body

    def _exactly(self, length: int) -> bytes:
        # One read into one buffer (no second copy of a 64 MiB part); a stop ends it by shutting the socket.
        self._stop_if_cancelled()
        return self._raw.read(length) if length else self._raw.read()

    def _to_end(self, max_bytes: int | None) -> bytes:
        chunks, got = [], 0
        while max_bytes is None or got <= max_bytes:
            self._stop_if_cancelled()
            chunk = self._raw.read(READ_CHUNK if max_bytes is None else min(READ_CHUNK, max_bytes + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _stop_if_cancelled(self) -> None:
        if self._client.cancelled.is_set():
            self._client._drop(*self._key)
            self._client.check_cancelled(self._what)

    def _finish(self) -> None:
        """Leave the connection ready for the next request: drain a small unread body, close on a large one."""
        length = self.content_length
        keep = (self.header("connection") or "").lower() != "close" and not self._client.cancelled.is_set()
        if not self._read:
            keep = keep and length is not None and length <= DRAIN_LIMIT
            if keep:
                try:
                    self._raw.read()
                except _NETWORK_ERRORS:
                    keep = False
        if not keep:
            self._client._drop(*self._key)


class HttpClient:
    def __init__(
        self,
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
        *,
        cancelled: threading.Event | None = None,
    ) -> None:
        """``cancelled``: once set, no request starts and no body read goes on (``CopyCancelled``); ``interrupt``
        also wakes reads blocked on a silent server. Default: never cancelled."""
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.cancelled = cancelled or threading.Event()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._in_use: set[socket.socket] = set()  # sockets of requests under way, any thread's

    def interrupt(self) -> None:
        """Set ``cancelled`` and shut every open connection (any thread's), so blocked reads end now. Not from a
        signal handler itself (it takes a lock the interrupted code may hold): from a thread it starts."""
        self.cancelled.set()
        with self._lock:
            sockets = list(self._in_use)
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def check_cancelled(self, what: str) -> None:
        if self.cancelled.is_set():
            raise CopyCancelled(f"{what}: stopped (the run was interrupted)")

    def get(self, url: str, headers: dict[str, str] | None = None) -> Response:
        with self.open(url, headers) as response:
            return Response(response.status, response.headers, response.read())

    @contextmanager
    def open(self, url: str, headers: dict[str, str] | None = None) -> Iterator[OpenResponse]:
        """GET ``url``; the response is usable inside the ``with`` block, its body read only if asked for."""
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        what = f"GET {parts.netloc}{parts.path}"
        headers = headers or {}
        _check_header_values(headers, what)
        key = (parts.scheme, parts.netloc)
        self.check_cancelled(what)
        connection = self._connection(*key)
        unsendable, sock = None, None
        try:
            if connection.sock is None:
                connection.connect()
            sock = connection.sock  # the response keeps reading it even when the connection lets go of it
            self._use(sock, True)
            connection.request("GET", path, headers=headers)
            raw = connection.getresponse()
        except _NETWORK_ERRORS as error:
            self._use(sock, False)
            self._drop(*key)
            self.check_cancelled(what)  # a socket shut by interrupt(): stopped, not a network fault
            raise TransientError(f"{what}: {type(error).__name__}: {error}") from error
        except (ValueError, TypeError) as error:  # http.client quotes a refused header value: keep only the type
            unsendable = type(error).__name__
        if unsendable is not None:  # raised outside the except: no chained exception holds the header either
            self._use(sock, False)
            self._drop(*key)
            raise CopyError(f"{what}: the request could not be sent ({unsendable})")
        response = OpenResponse(self, raw, key, what)
        try:
            yield response
        finally:
            try:
                response._finish()
            finally:
                self._use(sock, False)

    def _use(self, sock: socket.socket | None, in_use: bool) -> None:
        if sock is None:
            return
        with self._lock:
            if in_use:
                self._in_use.add(sock)
            else:
                self._in_use.discard(sock)

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        pool: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.setdefault("pool", {})
        key = (scheme, netloc)
        if key not in pool:
            if scheme == "https":
                pool[key] = http.client.HTTPSConnection(netloc, timeout=self.timeout, context=self.ssl_context)
            elif scheme == "http":
                pool[key] = http.client.HTTPConnection(netloc, timeout=self.timeout)
            else:
                raise CopyError(f"unsupported URL scheme {scheme!r} (http or https)")
        return pool[key]

    def _drop(self, scheme: str, netloc: str) -> None:
        pool = self._local.__dict__.get("pool", {})
        connection = pool.pop((scheme, netloc), None)
        if connection is not None:
            connection.close()


def _check_header_values(headers: dict[str, str], what: str) -> None:
    """http.client refuses a header value with CR/LF (or beyond Latin-1) with an exception that quotes the value,
    and the Authorization value is the token: refuse such values here, naming the header only. What can be sent
    is printable Latin-1 with tabs, so no exception http.client raises later has a header value to quote."""
    for name, value in headers.items():
        if _UNSENDABLE.search(value):
            raise CopyError(f"{what}: the {name} header holds a control or non-Latin-1 character: not sent")
