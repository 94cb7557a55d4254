"""The Hugging Face Hub protocol a copier needs: resolve a revision to a commit and its file list, and resolve
each file once to a (signed) URL that serves byte ranges."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from weights_copy.errors import (
    CopyError,
    EntryNotFoundError,
    GatedRepoError,
    RepoNotFoundError,
    RevisionNotFoundError,
    TransientError,
)
from weights_copy.http import Answer, ContentRange, HttpClient, OpenResponse, Response
from weights_copy.names import check_commit, check_file_path, check_revision, repo_url_path
from weights_copy.retry import RetryPolicy, with_retries
from weights_copy.settings import HUB_ENDPOINT

TOKEN_HINT = "set weights.hf_token_secret to a token"
"""How a caller gives a token, as the gated-repo message says it (the CDK config key; the shell names its own)."""
MAX_REDIRECTS = 5
MAX_TREE_PAGES = 10_000  # 1,000 entries a page: ten million files
_REDIRECTS = (301, 302, 303, 307, 308)
_RATE_LIMIT_RESET = re.compile(r"\bt=(\d+(?:\.\d+)?)")
_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")
_NOT_JSON = object()


@dataclass(frozen=True)
class HubFile:
    path: str
    size: int
    sha256: str | None  # LFS files: SHA-256 of the content
    git_oid: str | None  # every file: git blob SHA-1 (the only check for non-LFS files)


@dataclass(frozen=True)
class Snapshot:
    repo_id: str
    commit: str
    files: tuple[HubFile, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class FileLocation:
    url: str
    send_token: bool  # only to the Hub itself, never to a CDN host


class HubApi:
    def __init__(
        self,
        endpoint: str = HUB_ENDPOINT,
        token: str | None = None,
        http: HttpClient | None = None,
        retry: RetryPolicy | None = None,
        *,
        deadline: float | Callable[[], float] | None = None,
        token_hint: str = TOKEN_HINT,
    ) -> None:
        """``deadline`` bounds every retry wait (see ``RetryPolicy.deadline``); default: none, or ``retry``'s own.
        ``token_hint`` ends the gated-repo message ("request access on the Hub and ..."): how this caller's user
        gives a token. Default: the CDK config key, ``set weights.hf_token_secret to a token``."""
        self.endpoint = endpoint.rstrip("/")
        self.token_hint = token_hint
        self._token = token
        self.http = http or HttpClient()
        self.retry = retry or RetryPolicy()
        if deadline is not None:
            self.retry = dataclasses.replace(self.retry, deadline=deadline)

    def __repr__(self) -> str:  # never show the token
        return f"HubApi(endpoint={self.endpoint!r}, token={'set' if self._token else 'none'})"

    def snapshot(self, repo_id: str, revision: str | None = None) -> Snapshot:
        """The commit a revision points at (no revision: the repo's default branch), with every file's size and
        hashes: the model API gives the commit (``/api/models/{repo}`` answers for the default branch,
        ``.../revision/{revision}`` for a branch, tag or commit), the paged tree listing of that commit the files
        (the model API's ``siblings`` are truncated for large repos, which is why huggingface_hub lists the tree
        too)."""
        repo = repo_url_path(repo_id)
        if revision is None:
            what, url = f"{repo_id} (default branch)", f"{self.endpoint}/api/models/{repo}"
        else:
            what = f"{repo_id}@{check_revision(revision)}"
            url = f"{self.endpoint}/api/models/{repo}/revision/{quote(revision, safe='')}"
        info, _ = self._get_json(url, what)
        commit = check_commit(str(info.get("sha", "")) if isinstance(info, dict) else "")
        files = self.list_files(repo_id, commit)
        if not files:
            raise CopyError(f"{what}: the Hub lists no files at commit {commit}: nothing to copy")
        return Snapshot(repo_id=repo_id, commit=commit, files=files)

    def list_files(self, repo_id: str, commit: str) -> tuple[HubFile, ...]:
        """Every file of a commit, from ``/api/models/{repo}/tree/{commit}?recursive=true``, page by page."""
        what = f"{repo_id}@{check_commit(commit)[:12]}"
        url: str | None = f"{self.endpoint}/api/models/{repo_url_path(repo_id)}/tree/{commit}?recursive=true"
        files: dict[str, HubFile] = {}
        pages: set[str] = set()
        while url is not None:
            if url in pages or len(pages) >= MAX_TREE_PAGES:
                raise CopyError(f"{what}: the tree listing does not end (page {len(pages) + 1}, {len(files)} files)")
            pages.add(url)
            entries, url = self._get_json(url, f"{what} tree page {len(pages)}")
            if not isinstance(entries, list):
                raise CopyError(f"{what}: the tree listing is not a list of entries")
            for entry in entries:
                if isinstance(entry, dict) and entry.get("type") == "file":
                    file = _tree_file(entry)
                    if file.path in files:
                        raise CopyError(f"{what}: the tree listing holds {file.path!r} twice")
                    files[file.path] = file
        missing = [path for path, f in files.items() if f.sha256 is None and f.git_oid is None]
        if missing:
            raise CopyError(f"the Hub listed no hash for {missing[:3]}: cannot verify them")
        return tuple(files.values())

    def locate(
        self, repo_id: str, commit: str, path: str, first_bytes: int = 1
    ) -> tuple[FileLocation, Response | None]:
        """Resolve a file once: the signed CDN URL it redirects to, or the Hub URL itself when the Hub serves the
        file directly; in that case the response to the resolve request (asking for ``first_bytes``) comes along,
        so a small file costs one request. Redirects within the Hub's host (a renamed repo) are followed."""
        repo, path = repo_url_path(repo_id), check_file_path(path)
        start_url = f"{self.endpoint}/{repo}/resolve/{check_commit(commit)}/{quote(path)}"
        wanted = {"Range": f"bytes=0-{max(first_bytes, 1) - 1}"}
        what = f"{repo_id}/{path}@{commit[:12]}"

        def attempt() -> tuple[FileLocation, Response | None]:
            url = start_url
            for _ in range(MAX_REDIRECTS + 1):
                with self.http.open(url, self._headers(wanted, token=True)) as response:
                    target = _redirect_target(url, response)
                    if target is None and response.status in (200, 206):
                        return FileLocation(url=url, send_token=True), _as_asked(response, first_bytes)
                    if target is None:
                        raise_for(response, what, token_given=self._token is not None, hint=self.token_hint)
                if target is not None and not self._is_hub(target):
                    return FileLocation(url=target, send_token=False), None
                url = target or url
            raise CopyError(f"{what}: more than {MAX_REDIRECTS} redirects")

        return with_retries(attempt, self.retry, f"resolve {path}")

    def get_range(self, location: FileLocation, start: int, end: int) -> Response:
        """GET bytes start..end (inclusive), the body read whole; the caller checks and retries."""
        with self.open_range(location, start, end) as response:
            return Response(response.status, response.headers, response.read())

    @contextmanager
    def open_range(self, location: FileLocation, start: int, end: int) -> Iterator[OpenResponse]:
        """GET bytes start..end (inclusive), status and headers first: the caller reads the body only if it is the
        range asked for (a server that ignores Range answers 200 with the whole file)."""
        headers = self._headers({"Range": f"bytes={start}-{end}"}, token=location.send_token)
        with self.http.open(location.url, headers) as response:
            yield response

    def _get_json(self, url: str, what: str) -> tuple[Any, str | None]:
        """GET a Hub API URL (retried), following a bounded number of redirects (a renamed repo answers 307 with
        a relative Location): its JSON, and the next page's URL from a ``Link: <...>; rel="next"`` header."""

        def attempt() -> tuple[Response, str]:
            current = url
            for _ in range(MAX_REDIRECTS + 1):
                response = self.http.get(current, self._headers(token=self._is_hub(current)))
                target = _redirect_target(current, response)
                if target is None:
                    if response.status != 200:
                        raise_for(response, what, token_given=self._token is not None, hint=self.token_hint)
                    return response, current
                current = target
            raise CopyError(f"{what}: more than {MAX_REDIRECTS} redirects from {urlsplit(url).path}")

        response, final_url = with_retries(attempt, self.retry, f"list {what}")
        try:
            data = json.loads(response.body)
        except ValueError:
            data = _NOT_JSON
        if data is _NOT_JSON:
            kind = response.header("content-type") or "no content type"
            raise CopyError(f"{what}: the Hub's answer is not JSON ({kind}): is --hub-endpoint/HF_ENDPOINT the Hub?")
        return data, _next_page(final_url, response.header("link"))

    def _is_hub(self, url: str) -> bool:
        """Only the Hub's own origin gets the token: never a CDN, never a host a redirect or a page link names."""
        return _origin(url) == _origin(self.endpoint)

    def _headers(self, extra: dict[str, str] | None = None, *, token: bool = True) -> dict[str, str]:
        headers = {"User-Agent": "tgi-sagemaker-weights-copy/0.1", **(extra or {})}
        if self._token and token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers


def _tree_file(entry: dict[str, Any]) -> HubFile:
    lfs = entry.get("lfs") if isinstance(entry.get("lfs"), dict) else None
    path = check_file_path(str(entry.get("path", "")))
    size = (lfs or entry).get("size")
    if not isinstance(size, int) or size < 0:
        raise CopyError(f"the Hub listed no size for {path!r}")
    return HubFile(path=path, size=size, sha256=lfs.get("oid") if lfs else None, git_oid=entry.get("oid"))


def _as_asked(response: OpenResponse, first_bytes: int) -> Response | None:
    """The resolve response with its body when it holds what was asked (the first ``first_bytes`` bytes, or a
    whole file no larger); None, unread, when the Hub sent more (it ignored the Range of a large file)."""
    length = response.content_length
    fits = length is not None and length <= max(first_bytes, 1)
    if response.status == 206:
        served = ContentRange.parse(response.header("content-range"))
        fits = fits and served is not None and served.first == 0
    if not fits:
        return None
    return Response(response.status, response.headers, response.read(max_bytes=max(first_bytes, 1)))


def _redirect_target(url: str, response: Answer) -> str | None:
    location = response.header("location")
    return urljoin(url, location) if response.status in _REDIRECTS and location else None


def _next_page(url: str, link: str | None) -> str | None:
    """The ``rel="next"`` URL of a GitHub-style Link header, resolved against the page's own URL."""
    for target, params in _LINK.findall(link or ""):
        rels = [p.split("=", 1)[1].strip().strip('"') for p in params.split(";") if p.strip().startswith("rel=")]
        if any("next" in rel.split() for rel in rels):
            return urljoin(url, str(target).strip())
    return None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def raise_for(response: Answer, what: str, *, token_given: bool, hint: str = TOKEN_HINT) -> None:
    """Turn a Hub error response into the error that says what to do."""
    status, code = response.status, response.header("x-error-code")
    if status == 429:
        raise TransientError(f"{what}: rate limited by the Hub", retry_after=retry_after_of(response))
    if status >= 500:
        raise TransientError(f"{what}: Hub answered {status}")
    if code == "GatedRepo":
        if token_given:
            raise GatedRepoError(f"{what}: gated, and the token's account is not approved: request access on the Hub")
        raise GatedRepoError(f"{what}: gated: request access on the Hub and {hint}")
    if code == "RevisionNotFound":
        raise RevisionNotFoundError(f"{what}: revision not found: use a branch, tag or commit the repo has")
    if code == "EntryNotFound":
        raise EntryNotFoundError(f"{what}: file not found at that commit")
    if code == "RepoNotFound" or status in (401, 404):
        advice = "check the id" + ("" if token_given else ", or give a token if it is private")
        raise RepoNotFoundError(f"{what}: repository not found: {advice}")
    raise CopyError(f"{what}: the Hub answered {status} {code or ''}".rstrip())


def retry_after_of(response: Answer) -> float | None:
    """How long a 429 asks to wait: ``Retry-After``, else the ``RateLimit`` header's ``t=`` (seconds to reset)."""
    header = response.header("retry-after")
    if header is not None:
        try:
            return float(header)
        except ValueError:
            pass
    rate_limit = response.header("ratelimit")
    if rate_limit:
        match = _RATE_LIMIT_RESET.search(rate_limit)
        if match:
            return float(match.group(1))
    return None
