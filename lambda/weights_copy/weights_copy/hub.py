"""The Hugging Face Hub protocol a copier needs: resolve a revision to a commit and its file list, and resolve
each file once to a (signed) URL that serves byte ranges."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from weights_copy.errors import (
    CopyError,
    EntryNotFoundError,
    GatedRepoError,
    RepoNotFoundError,
    RevisionNotFoundError,
    TransientError,
)
from weights_copy.http import HttpClient, Response
from weights_copy.names import check_commit, check_file_path, check_revision, repo_url_path
from weights_copy.retry import RetryPolicy, with_retries

DEFAULT_ENDPOINT = "https://huggingface.co"
_RATE_LIMIT_RESET = re.compile(r"\bt=(\d+(?:\.\d+)?)")


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
        endpoint: str = DEFAULT_ENDPOINT,
        token: str | None = None,
        http: HttpClient | None = None,
        retry: RetryPolicy | None = None,
        *,
        deadline: float | Callable[[], float] | None = None,
    ) -> None:
        """``deadline`` bounds every retry wait (see ``RetryPolicy.deadline``); default: none, or ``retry``'s own."""
        self.endpoint = endpoint.rstrip("/")
        self._token = token
        self.http = http or HttpClient()
        self.retry = retry or RetryPolicy()
        if deadline is not None:
            self.retry = dataclasses.replace(self.retry, deadline=deadline)

    def __repr__(self) -> str:  # never show the token
        return f"HubApi(endpoint={self.endpoint!r}, token={'set' if self._token else 'none'})"

    def snapshot(self, repo_id: str, revision: str) -> Snapshot:
        """The commit a revision points at, with every file's size and hashes."""
        repo = repo_url_path(repo_id)
        url = f"{self.endpoint}/api/models/{repo}/revision/{quote(check_revision(revision), safe='')}?blobs=true"
        response = with_retries(lambda: self._get_ok(url, f"{repo_id}@{revision}"), self.retry, f"list {repo_id}")
        info = json.loads(response.body)
        files = tuple(
            HubFile(
                path=sibling["rfilename"],
                size=int(sibling.get("lfs", {}).get("size", sibling.get("size", 0))),
                sha256=sibling.get("lfs", {}).get("sha256"),
                git_oid=sibling.get("blobId"),
            )
            for sibling in info["siblings"]
        )
        for f in files:
            check_file_path(f.path)
        missing = [f.path for f in files if f.sha256 is None and f.git_oid is None]
        if missing:
            raise CopyError(f"the Hub listed no hash for {missing[:3]}: cannot verify them")
        return Snapshot(repo_id=repo_id, commit=check_commit(info["sha"]), files=files)

    def locate(
        self, repo_id: str, commit: str, path: str, first_bytes: int = 1
    ) -> tuple[FileLocation, Response | None]:
        """Resolve a file once: the signed CDN URL it redirects to, or the Hub URL itself when the Hub serves the
        file directly; in that case the response to the resolve request (asking for ``first_bytes``) comes along,
        so a small file costs one request."""
        repo, path = repo_url_path(repo_id), check_file_path(path)
        url = f"{self.endpoint}/{repo}/resolve/{check_commit(commit)}/{quote(path)}"
        wanted = {"Range": f"bytes=0-{max(first_bytes, 1) - 1}"}

        def attempt() -> tuple[FileLocation, Response | None]:
            response = self.http.get(url, self._headers(extra=wanted))
            if response.status in (301, 302, 303, 307, 308):
                target = urljoin(url, response.header("location") or "")
                same_host = urlsplit(target).netloc == urlsplit(self.endpoint).netloc
                return FileLocation(url=target, send_token=same_host), None
            if response.status in (200, 206):
                return FileLocation(url=url, send_token=True), response
            raise_for(response, f"{repo_id}/{path}@{commit[:12]}", token_given=self._token is not None)
            raise AssertionError("unreachable")

        return with_retries(attempt, self.retry, f"resolve {path}")

    def get_range(self, location: FileLocation, start: int, end: int) -> Response:
        """GET bytes start..end (inclusive); the caller checks and retries."""
        headers = {"Range": f"bytes={start}-{end}"}
        return self.http.get(location.url, self._headers(headers) if location.send_token else headers)

    def _get_ok(self, url: str, what: str) -> Response:
        response = self.http.get(url, self._headers())
        if response.status != 200:
            raise_for(response, what, token_given=self._token is not None)
        return response

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"User-Agent": "tgi-sagemaker-weights-copy/0.1", **(extra or {})}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers


def raise_for(response: Response, what: str, *, token_given: bool) -> None:
    """Turn a Hub error response into the error that says what to do."""
    status, code = response.status, response.header("x-error-code")
    if status == 429:
        raise TransientError(f"{what}: rate limited by the Hub", retry_after=_retry_after(response))
    if status >= 500:
        raise TransientError(f"{what}: Hub answered {status}")
    if code == "GatedRepo":
        if token_given:
            raise GatedRepoError(f"{what}: gated, and the token's account is not approved: request access on the Hub")
        raise GatedRepoError(f"{what}: gated: request access on the Hub and set weights.hf_token_secret to a token")
    if code == "RevisionNotFound":
        raise RevisionNotFoundError(f"{what}: revision not found: use a branch, tag or commit the repo has")
    if code == "EntryNotFound":
        raise EntryNotFoundError(f"{what}: file not found at that commit")
    if code == "RepoNotFound" or status in (401, 404):
        hint = "check the id" + ("" if token_given else ", or give a token if it is private")
        raise RepoNotFoundError(f"{what}: repository not found: {hint}")
    raise CopyError(f"{what}: the Hub answered {status} {code or ''}".rstrip())


def _retry_after(response: Response) -> float | None:
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
