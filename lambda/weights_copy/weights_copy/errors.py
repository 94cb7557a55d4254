"""What can go wrong in a copy, split by what to do about it: retry (transient) or stop and say why."""

from __future__ import annotations


class CopyError(Exception):
    """A failure that retrying will not fix; the message says what to do."""


class TransientError(Exception):
    """A failure worth retrying (5xx, throttling, dropped or short reads)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ExpiredUrlError(TransientError):
    """The signed CDN URL was refused (expired): resolve the file again."""


class RetryDeadlineError(CopyError):
    """A retry's wait (a server's Retry-After, or backoff) would pass the caller's deadline: stopped at once.
    Not transient for this run; a later run (a fresh Lambda) may succeed once the wait has passed."""

    def __init__(self, message: str, *, wait: float, seconds_left: float) -> None:
        super().__init__(message)
        self.wait = wait
        self.seconds_left = seconds_left


class CopyCancelled(CopyError):
    """The run was asked to stop (Ctrl-C in the shell copy): every worker stops at its next request or wait."""


class GatedRepoError(CopyError):
    pass


class RepoNotFoundError(CopyError):
    pass


class RevisionNotFoundError(CopyError):
    pass


class EntryNotFoundError(CopyError):
    pass


class SizeMismatchError(CopyError):
    """The server serves a file of another size than the Hub's listing: the listing and the bytes disagree, and
    asking again gives the same answer."""


class RangeIgnoredError(CopyError):
    """A server answered a range request for part of a file with the whole file (200): a copy in parts needs a
    server that honours Range; reading whole files per part would multiply the bytes and the memory."""


class IntegrityError(TransientError):
    """Bytes did not hash or size to what the Hub lists: the upload is aborted; a fresh attempt may succeed."""
