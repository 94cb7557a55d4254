"""A small HTTP/1.1 client on the standard library: one keep-alive connection per host and thread, no redirects
followed (the copier reads them), bodies read whole and checked against Content-Length."""

from __future__ import annotations

import http.client
import re
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from weights_copy.errors import CopyError, TransientError

DEFAULT_TIMEOUT = 60.0
_UNSENDABLE = re.compile(r"[^\t\x20-\x7e\xa0-\xff]")  # what a header value can hold: printable Latin-1 and tabs


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class HttpClient:
    def __init__(self, timeout: float = DEFAULT_TIMEOUT, ssl_context: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._local = threading.local()

    def get(self, url: str, headers: dict[str, str] | None = None) -> Response:
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        headers = headers or {}
        _check_header_values(headers, f"GET {parts.netloc}{parts.path}")
        connection = self._connection(parts.scheme, parts.netloc)
        try:
            connection.request("GET", path, headers=headers)
            raw = connection.getresponse()
            body = raw.read()
            response_headers = {name.lower(): value for name, value in raw.getheaders()}
        except (TimeoutError, http.client.HTTPException, OSError) as error:
            self._drop(parts.scheme, parts.netloc)
            raise TransientError(f"GET {parts.netloc}{parts.path}: {type(error).__name__}: {error}") from error
        length = response_headers.get("content-length")
        if length is not None and int(length) != len(body):
            self._drop(parts.scheme, parts.netloc)
            raise TransientError(f"GET {parts.netloc}{parts.path}: {len(body)} of {length} bytes arrived")
        if response_headers.get("connection", "").lower() == "close":
            self._drop(parts.scheme, parts.netloc)
        return Response(raw.status, response_headers, body)

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        pool: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.setdefault("pool", {})
        key = (scheme, netloc)
        if key not in pool:
            if scheme == "https":
                pool[key] = http.client.HTTPSConnection(netloc, timeout=self.timeout, context=self.ssl_context)
            elif scheme == "http":
                pool[key] = http.client.HTTPConnection(netloc, timeout=self.timeout)
            else:
                raise ValueError(f"unsupported URL scheme {scheme!r}")
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
