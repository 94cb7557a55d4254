"""What a repo id, a revision, a commit and a file path may be before they go into a URL or an S3 key."""

from __future__ import annotations

import re
from urllib.parse import quote

from weights_copy.errors import CopyError

# huggingface_hub's validate_repo_id (the Hub's own rule), in the owner/name form: each part 1-96 ASCII letters,
# digits, '-', '_', '.', starting and ending with a letter, digit or '_'; no '--' or '..'; no '.git' at the end.
_REPO_PART = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?"
_REPO_ID = re.compile(rf"{_REPO_PART}/{_REPO_PART}")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_REVISION = 255


def check_repo_id(repo_id: str) -> str:
    if "/" not in repo_id and _REPO_ID.fullmatch(f"x/{repo_id}"):
        raise CopyError(f"repo id {repo_id!r}: a repo id is 'owner/name' (as on the model's Hub page)")
    if not _REPO_ID.fullmatch(repo_id) or "--" in repo_id or ".." in repo_id or repo_id.endswith(".git"):
        raise CopyError(
            f"repo id {repo_id!r}: must be 'owner/name', each part 1-96 letters, digits, '-', '_' or '.', "
            "not starting or ending with '-' or '.', without '--' or '..' (the Hub's rule)"
        )
    return repo_id


def check_revision(revision: str) -> str:
    """A branch, tag or commit: any Hub ref name, but nothing that could change what a URL path means."""
    if not revision:
        raise CopyError("revision is empty: give a branch, tag or commit (e.g. main)")
    if _CONTROL.search(revision):
        raise CopyError(f"revision {revision!r} has a control character")
    if ".." in revision:
        raise CopyError(f"revision {revision!r} has '..', which no branch or tag name may hold")
    if revision.startswith("/") or revision.endswith("/"):
        raise CopyError(f"revision {revision!r} may not start or end with '/'")
    if len(revision) > MAX_REVISION:
        raise CopyError(f"revision {revision[:40]!r}... is longer than {MAX_REVISION} characters")
    return revision


def check_commit(commit: str) -> str:
    if not _COMMIT.fullmatch(commit):
        raise CopyError(f"commit {commit[:80]!r} is not a 40-digit hex commit id (the Hub's 'sha' of a revision)")
    return commit


def check_file_path(path: str) -> str:
    """A relative path inside the repo, which the copy appends to the model's S3 prefix."""
    parts = path.split("/")
    if _CONTROL.search(path) or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise CopyError(f"the Hub listed an unsafe file path {path!r}: not copied under the model's prefix")
    return path


def repo_url_path(repo_id: str) -> str:
    """``owner/name`` with each part quoted (a checked id needs no quoting: this keeps it so whatever changes)."""
    owner, name = check_repo_id(repo_id).split("/")
    return f"{quote(owner, safe='')}/{quote(name, safe='')}"
