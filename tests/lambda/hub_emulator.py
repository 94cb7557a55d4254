"""A Hugging Face Hub emulator on loopback: the API listing (the model API, for the default branch or a revision,
whose ``siblings`` the Hub truncates for large repos, and the paged tree API with ``Link: rel="next"``), /resolve
with 302s to a separate "CDN" host whose signed URLs expire and honour Range, renamed repos answered with relative
307s, and the Hub's error behaviours on demand. A repo's default branch need not be ``main``.

Its fidelity is checked by the real client: tests/lambda/test_hub_emulator.py runs
``huggingface_hub.snapshot_download`` against it and compares the bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import socket
import ssl
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{sha}\nsize {size}\n"
_SECRET = b"emulator-signing-key"


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()


@dataclass
class RepoFile:
    path: str
    data: bytes
    lfs: bool

    @cached_property  # hashing a multi-GB shard on every request would make the emulator the bottleneck
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @cached_property
    def blob_id(self) -> str:
        pointer = LFS_POINTER.format(sha=self.sha256, size=len(self.data)).encode()
        return git_blob_oid(pointer if self.lfs else self.data)


@dataclass
class Repo:
    repo_id: str
    commits: dict[str, dict[str, RepoFile]]
    refs: dict[str, str]
    gated: bool = False
    approved_tokens: set[str] = field(default_factory=set)
    default_branch: str = "main"


@dataclass
class Fault:
    kind: str  # "429", "500", "reset", "truncate", "stall", "expire", "corrupt", "api-500", "ignore-range", "shrink",
    # "grow"
    match: str  # substring of the request path
    times: int = 1


class HubEmulator:
    """Two servers: ``endpoint`` (the Hub, 127.0.0.1) and the CDN (127.0.0.2) its /resolve redirects to."""

    def __init__(
        self,
        url_lifetime: float = 3600.0,
        cdn_bytes_per_second: float | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        cdn_url: str | None = None,
        tree_page_size: int = 1000,
        siblings_limit: int | None = None,
    ) -> None:
        """``ssl_context`` serves both hosts over TLS; ``cdn_url`` is the base of the signed URLs /resolve hands out
        (default: the CDN's own address), for callers that reach the CDN by a host name of their own.
        ``tree_page_size``: entries a page of the tree listing (the Hub: 1000). ``siblings_limit``: the most
        ``siblings`` the revision API lists (the Hub truncates them for large repos; default: all)."""
        self.repos: dict[str, Repo] = {}
        self.renamed: dict[str, str] = {}  # old id -> new id: the Hub answers 307 with a relative Location
        self.rename_location_base = ""  # "" (relative Location, as the Hub does) or a base URL to make it absolute
        self.tree_page_size = tree_page_size
        self.siblings_limit = siblings_limit
        self.hub_paths: list[str] = []  # every request path (with query) the Hub host saw, in order
        self.stalls_released = threading.Event()  # "stall" faults hold their connection open until this is set
        self.faults: list[Fault] = []
        self.requests: Counter[str] = Counter()
        self.url_lifetime = url_lifetime
        self.rate_limit_reset = 1  # seconds a "429" fault asks to wait (Retry-After and RateLimit t=)
        self.cdn_bytes_per_second = cdn_bytes_per_second
        self.clock = time.time
        self.authorization_seen_by_cdn: list[str] = []
        self.cdn_in_flight = 0
        self.cdn_max_in_flight = 0
        self._lock = threading.Lock()
        server_class = _tls_server(ssl_context) if ssl_context else ThreadingHTTPServer
        self._hub = server_class(("127.0.0.1", 0), _handler(self, cdn=False))
        self._cdn = server_class(("127.0.0.2", 0), _handler(self, cdn=True))
        self._scheme = "https" if ssl_context else "http"
        self._cdn_url = cdn_url
        for server in (self._hub, self._cdn):
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"{self._scheme}://127.0.0.1:{self._hub.server_address[1]}"

    @property
    def cdn(self) -> str:
        return self._cdn_url or f"{self._scheme}://127.0.0.2:{self._cdn.server_address[1]}"

    @property
    def addresses(self) -> dict[str, tuple[str, int]]:
        """Where the two servers listen: ``{"hub": (ip, port), "cdn": (ip, port)}``."""
        return {"hub": self._hub.server_address[:2], "cdn": self._cdn.server_address[:2]}

    def close(self) -> None:
        self.stalls_released.set()
        for server in (self._hub, self._cdn):
            server.shutdown()
            server.server_close()

    def add_repo(
        self,
        repo_id: str,
        files: dict[str, bytes],
        *,
        commit: str | None = None,
        branch: str | None = None,
        default_branch: str | None = None,
        gated: bool = False,
        approved: Iterable[str] = (),
    ) -> str:
        """A commit of ``files``, which ``branch`` (default: the repo's default branch) then points at.
        ``default_branch`` makes another branch the repo's default (the one its model API answers for without a
        revision). Default: ``main``, or what the repo had."""
        repo_files = {
            p: RepoFile(p, d, lfs=p.endswith((".safetensors", ".bin")) or len(d) > 10_000_000) for p, d in files.items()
        }
        commit = commit or hashlib.sha1(repr(sorted((p, f.sha256) for p, f in repo_files.items())).encode()).hexdigest()
        repo = self.repos.setdefault(repo_id, Repo(repo_id, {}, {}, gated, set(approved)))
        repo.commits[commit] = repo_files
        repo.default_branch = default_branch or repo.default_branch
        repo.refs[branch or repo.default_branch] = commit
        return commit

    def rename_repo(self, old: str, new: str, *, location_base: str = "") -> None:
        """Move a repo to a new id; the old id's API and /resolve URLs answer 307 to the new one (relative, as the
        Hub does, unless ``location_base`` makes the Location absolute, e.g. to another host)."""
        self.repos[new] = self.repos.pop(old)
        self.repos[new].repo_id = new
        self.renamed[old] = new
        self.rename_location_base = location_base

    def fail(self, kind: str, match: str, times: int = 1) -> None:
        with self._lock:
            self.faults.append(Fault(kind, match, times))

    def take_fault(self, kinds: tuple[str, ...], path: str) -> str | None:
        with self._lock:
            for fault in self.faults:
                if fault.kind in kinds and fault.match in path and fault.times > 0:
                    fault.times -= 1
                    return fault.kind
        return None

    def count(self, what: str) -> None:
        with self._lock:
            self.requests[what] += 1

    def sign(self, sha: str) -> str:
        expires = int(self.clock() + self.url_lifetime)
        signature = hmac.new(_SECRET, f"{sha}:{expires}".encode(), "sha256").hexdigest()
        return f"{self.cdn}/blobs/{sha}?expires={expires}&signature={signature}"

    def blob(self, sha: str) -> bytes | None:
        return next(
            (
                f.data
                for repo in self.repos.values()
                for files in repo.commits.values()
                for f in files.values()
                if f.lfs and f.sha256 == sha
            ),
            None,
        )


def _tls_server(context: ssl.SSLContext) -> type[ThreadingHTTPServer]:
    """HTTPS with each handshake in its connection's thread (a silent client cannot stall the accept loop)."""

    class TlsServer(ThreadingHTTPServer):
        def finish_request(self, request, client_address):  # type: ignore[no-untyped-def]
            request.settimeout(30)
            try:
                connection = context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
            connection.settimeout(600)
            self.RequestHandlerClass(connection, client_address, self)

    return TlsServer


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


def _handler(hub: HubEmulator, *, cdn: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_HEAD(self) -> None:
            self._route(head=True)

        def do_GET(self) -> None:
            self._route(head=False)

        def _route(self, head: bool) -> None:
            try:
                if cdn:
                    self._cdn(head)
                else:
                    self._hub(head)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        # --- the Hub -------------------------------------------------------------------------------------
        def _hub(self, head: bool) -> None:
            with hub._lock:
                hub.hub_paths.append(self.path)
            path = unquote(urlsplit(self.path).path)
            if hub.take_fault(("api-500",), path):
                return self._send(500, b"oops", head=head)
            if hub.take_fault(("429",), path):
                hub.count("429")
                return self._send(
                    429,
                    b"slow down",
                    head=head,
                    headers={
                        "RateLimit": f'"api";r=0;t={hub.rate_limit_reset}',
                        "Retry-After": str(hub.rate_limit_reset),
                    },
                )
            if (moved := re.fullmatch(r"(/api/models/|/)([^/]+/[^/]+)((?:/(?:revision|tree|resolve)/.*)?)", path)) and (
                new_id := hub.renamed.get(moved.group(2))
            ):
                raw = urlsplit(self.path)
                target = moved.group(1) + new_id + raw.path[len(moved.group(1)) + len(moved.group(2)) :]
                target += f"?{raw.query}" if raw.query else ""
                hub.count("rename-307")
                location = hub.rename_location_base + target
                return self._send(307, b"", head=head, headers={"Location": location})
            if match := re.fullmatch(r"/api/models/([^/]+/[^/]+)(?:/revision/(.+))?", path):
                return self._api(match.group(1), match.group(2), head)
            if match := re.fullmatch(r"/api/models/([^/]+/[^/]+)/tree/([^/]+)/?(.*)", path):
                return self._tree(match.group(1), match.group(2), match.group(3), head)
            if match := re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path):
                return self._resolve(match.group(1), match.group(2), match.group(3), head)
            self._send(404, b"no such route", head=head, headers={"X-Error-Code": "EntryNotFound"})

        def _repo(self, repo_id: str, head: bool) -> Repo | None:
            repo = hub.repos.get(repo_id)
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
            if repo is None:
                self._send(401, b"Repository not found", head=head, headers={"X-Error-Code": "RepoNotFound"})
                return None
            if repo.gated and token not in repo.approved_tokens:
                status = 403 if token else 401
                self._send(
                    status, b"Access to this repo is restricted", head=head, headers={"X-Error-Code": "GatedRepo"}
                )
                return None
            return repo

        def _commit(self, repo: Repo, revision: str, head: bool) -> str | None:
            commit = repo.refs.get(revision, revision if revision in repo.commits else None)
            if commit is None:
                self._send(404, b"Invalid rev id", head=head, headers={"X-Error-Code": "RevisionNotFound"})
            return commit

        def _api(self, repo_id: str, revision: str | None, head: bool) -> None:
            """The model API: without a revision it answers for the repo's default branch, as the Hub does."""
            hub.count("api")
            repo = self._repo(repo_id, head)
            if repo is None or (commit := self._commit(repo, revision or repo.default_branch, head)) is None:
                return
            siblings = []
            for f in repo.commits[commit].values():
                sibling = {"rfilename": f.path, "size": len(f.data), "blobId": f.blob_id}
                if f.lfs:
                    pointer_size = len(LFS_POINTER.format(sha=f.sha256, size=len(f.data)))
                    sibling["lfs"] = {"sha256": f.sha256, "size": len(f.data), "pointerSize": pointer_size}
                siblings.append(sibling)
            if hub.siblings_limit is not None:
                siblings = siblings[: hub.siblings_limit]
            body = {
                "_id": "0" * 24,
                "id": repo_id,
                "modelId": repo_id,
                "sha": commit,
                "private": False,
                "gated": "auto" if repo.gated else False,
                "disabled": False,
                "tags": [],
                "siblings": siblings,
                "lastModified": "2025-01-20T00:00:00.000Z",
                "createdAt": "2025-01-20T00:00:00.000Z",
            }
            self._send(200, json.dumps(body).encode(), head=head, headers={"Content-Type": "application/json"})

        def _tree(self, repo_id: str, revision: str, folder: str, head: bool) -> None:
            hub.count("tree")
            repo = self._repo(repo_id, head)
            if repo is None or (commit := self._commit(repo, revision, head)) is None:
                return
            query = parse_qs(urlsplit(self.path).query)
            recursive = query.get("recursive", ["false"])[0].lower() == "true"
            prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
            entries, folders = [], set()
            for f in repo.commits[commit].values():
                if not f.path.startswith(prefix):
                    continue
                rest = f.path[len(prefix) :]
                if "/" in rest and not recursive:
                    folders.add(prefix + rest.split("/", 1)[0])
                    continue
                for depth in range(rest.count("/")):
                    folders.add(prefix + "/".join(rest.split("/")[: depth + 1]))
                entry = {"type": "file", "oid": f.blob_id, "size": len(f.data), "path": f.path}
                if f.lfs:
                    pointer_size = len(LFS_POINTER.format(sha=f.sha256, size=len(f.data)))
                    entry["lfs"] = {"oid": f.sha256, "size": len(f.data), "pointerSize": pointer_size}
                entries.append(entry)
            entries += [{"type": "directory", "oid": "0" * 40, "size": 0, "path": d} for d in sorted(folders)]
            entries.sort(key=lambda e: str(e["path"]))
            # Pages like the Hub's: an opaque cursor, and the next page's absolute URL in a GitHub-style Link header.
            cursor = query.pop("cursor", [""])[0]
            start = int(base64.urlsafe_b64decode(cursor).decode()) if cursor else 0
            end = start + hub.tree_page_size
            headers = {"Content-Type": "application/json"}
            if end < len(entries):
                next_query = urlencode({**{k: v[0] for k, v in query.items()}, "cursor": _cursor(end)})
                base = f"{hub._scheme}://{self.headers.get('Host')}{urlsplit(self.path).path}"
                headers["Link"] = f'<{base}?{next_query}>; rel="next"'
            self._send(200, json.dumps(entries[start:end]).encode(), head=head, headers=headers)

        def _resolve(self, repo_id: str, revision: str, file_path: str, head: bool) -> None:
            hub.count("resolve")
            repo = self._repo(repo_id, head)
            if repo is None or (commit := self._commit(repo, revision, head)) is None:
                return
            f = repo.commits[commit].get(file_path)
            if f is None:
                return self._send(404, b"Entry not found", head=head, headers={"X-Error-Code": "EntryNotFound"})
            common = {"X-Repo-Commit": commit, "Accept-Ranges": "bytes"}
            if f.lfs:
                location = hub.sign(f.sha256)
                return self._send(
                    302,
                    b"",
                    head=head,
                    headers={
                        **common,
                        "Location": location,
                        "X-Linked-Etag": f'"{f.sha256}"',
                        "X-Linked-Size": str(len(f.data)),
                        "ETag": f'"{f.blob_id}"',
                    },
                )
            self._send_ranged(f.data, head, {**common, "ETag": f'"{f.blob_id}"'}, quote(file_path))

        # --- the CDN -------------------------------------------------------------------------------------
        def _cdn(self, head: bool) -> None:
            parts = urlsplit(self.path)
            if self.headers.get("Authorization"):
                hub.authorization_seen_by_cdn.append(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            match = re.fullmatch(r"/blobs/([0-9a-f]{64})", parts.path)
            data = hub.blob(match.group(1)) if match else None
            if data is None:
                hub.count("cdn-404")
                return self._send(404, b"no such blob", head=head)
            expected = hmac.new(_SECRET, f"{match.group(1)}:{query.get('expires')}".encode(), "sha256").hexdigest()
            expired = float(query.get("expires", 0)) < hub.clock() or hub.take_fault(("expire",), parts.path)
            if not hmac.compare_digest(expected, query.get("signature", "")) or expired:
                hub.count("cdn-403")
                return self._send(403, b"Request has expired", head=head)
            if hub.take_fault(("500",), parts.path):
                hub.count("cdn-500")
                return self._send(500, b"edge error", head=head)
            if hub.take_fault(("corrupt",), parts.path):
                data = bytes(b ^ 0xFF for b in data[:16]) + data[16:]
            with hub._lock:
                hub.cdn_in_flight += 1
                hub.cdn_max_in_flight = max(hub.cdn_max_in_flight, hub.cdn_in_flight)
            try:
                self._send_ranged(data, head, {"Content-Type": "application/octet-stream"}, parts.path)
            finally:
                with hub._lock:
                    hub.cdn_in_flight -= 1

        # --- shared --------------------------------------------------------------------------------------
        def _send_ranged(self, data: bytes, head: bool, headers: dict[str, str], fault_path: str) -> None:
            header = self.headers.get("Range")
            if hub.take_fault(("ignore-range",), fault_path):  # a server or proxy that answers 200 with it all
                hub.count("range-ignored")
                header = None
            resized = hub.take_fault(("shrink", "grow"), fault_path)  # bytes of another size than the listing
            if resized:
                data = data[:-7] if resized == "shrink" else data + b"\0" * 7
            status, start, end = 200, 0, len(data) - 1
            if header and (m := re.fullmatch(r"bytes=(\d+)-(\d*)", header.strip())):
                start = int(m.group(1))
                end = min(int(m.group(2)) if m.group(2) else len(data) - 1, len(data) - 1)
                if start >= len(data) and len(data) > 0:
                    return self._send(416, b"", head=head, headers={"Content-Range": f"bytes */{len(data)}"})
                status = 206
                headers = {**headers, "Content-Range": f"bytes {start}-{end}/{len(data)}"}
            if cdn or not head:
                hub.count("cdn-get" if cdn else "hub-get")
            body = memoryview(data)[start : end + 1]  # no copy: the benchmark shares 2 cores with its peers
            fault = None if head else hub.take_fault(("reset", "truncate", "stall"), fault_path)
            self._send(status, body, head=head, headers=headers, fault=fault)

        def _send(
            self,
            status: int,
            body: bytes | memoryview,
            *,
            head: bool,
            headers: dict[str, str] | None = None,
            fault: str | None = None,
        ) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            if fault:
                self.send_header("Connection", "close")
            self.end_headers()
            if head:
                return
            if fault:
                hub.count(f"fault-{fault}")
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                if fault == "stall":  # a silent server: half the body, then nothing, connection open
                    hub.stalls_released.wait(timeout=600)
                    return
                if fault == "reset":  # SO_LINGER 0: close sends RST instead of FIN
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            self._write(body)

        def _write(self, body: bytes | memoryview) -> None:
            rate = hub.cdn_bytes_per_second if cdn else None
            if not rate:
                self.wfile.write(body)
                return
            chunk = 64 * 1024
            started = time.monotonic()
            for offset in range(0, len(body), chunk):
                self.wfile.write(body[offset : offset + chunk])
                ahead = (offset + chunk) / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)

    return Handler
