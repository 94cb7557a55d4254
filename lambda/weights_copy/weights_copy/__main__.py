"""Copy a Hub revision into S3 from a shell (copies that outgrow Lambda):

    python -m weights_copy deepseek-ai/DeepSeek-R1 [--revision main] --bucket my-weights \\
        [--token-secret hf/token] [--part-size-mb N] [--max-in-flight N] [--parallel-files 4] \\
        [--allow-pattern '*.safetensors' ...] [--ignore-pattern 'original/*' ...]

It selects the files a deployment selects by default (what the container loads: safetensors, JSON, text, tokenizer
models, chat templates, Python files; not original/*), so that a deployment of the same commit finds every file in
place; give the deployment's weights.allow_patterns / ignore_patterns if it sets its own.

Exit status: 0 copied, 1 the copy failed, 2 bad options or settings, 130 stopped by Ctrl-C (the uploads this run
had started are aborted; files already copied stay, and a rerun skips them).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from weights_copy import settings
from weights_copy.copier import MIB, S3_MIN_PART, CopySettings, FileCopier
from weights_copy.errors import CopyCancelled, CopyError, TransientError
from weights_copy.http import HttpClient
from weights_copy.hub import HubApi
from weights_copy.names import check_repo_id, check_revision
from weights_copy.retry import RetryPolicy
from weights_copy.s3_config import copy_s3_config
from weights_copy.snapshot_copy import RunUploads, copy_snapshot
from weights_copy.token import normalise_token, read_hub_token

FAILED, USAGE, INTERRUPTED = 1, 2, 130
S3_MAX_PART_MB = 5 * 1024
TOKEN_HINT = "pass a token of an approved account (--token-secret <Secrets Manager id>, or HF_TOKEN)"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not the usage block
        self.exit(USAGE, f"{self.prog}: error: {message} (--help lists the options)\n")


def _checked(check: Callable[[str], str]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        try:
            return check(value)
        except CopyError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def _whole_number(low: int, high: int | None = None, why: str = "") -> Callable[[str], int]:
    def parse(value: str) -> int:
        number = int(value) if value.strip().lstrip("-").isdigit() else None
        if number is None or number < low or (high is not None and number > high):
            bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
            raise argparse.ArgumentTypeError(f"{value!r}: give a whole number {bounds}{why}")
        return number

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m weights_copy", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("repo_id", type=_checked(check_repo_id), help="owner/name on the Hub")
    parser.add_argument(
        "--revision", type=_checked(check_revision), help="branch, tag or commit; default: the repo's default branch"
    )
    parser.add_argument("--bucket", required=True, type=_checked(_bucket))
    parser.add_argument("--token-secret", help="Secrets Manager id of a Hub token (or set HF_TOKEN)")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION / AWS_DEFAULT_REGION or the profile's)")
    parser.add_argument(
        "--hub-endpoint", default=os.environ.get("HF_ENDPOINT", settings.HUB_ENDPOINT), type=_checked(_endpoint)
    )
    parser.add_argument("--s3-endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL_S3"))
    s3_part = f" (S3 parts are {S3_MIN_PART // MIB} MiB to 5 GiB)"
    parser.add_argument(
        "--part-size-mb",
        type=_whole_number(S3_MIN_PART // MIB, S3_MAX_PART_MB, s3_part),
        default=settings.PART_SIZE_MB,
        help=f"default: {settings.PART_SIZE_MB}",
    )
    parser.add_argument(
        "--max-in-flight",
        type=_whole_number(1),
        default=settings.MAX_IN_FLIGHT,
        help=f"parts fetched at once, a file; default: {settings.MAX_IN_FLIGHT}",
    )
    parser.add_argument("--parallel-files", type=_whole_number(1), default=2)
    for name, default in (("allow", settings.ALLOW_PATTERNS), ("ignore", settings.IGNORE_PATTERNS)):
        parser.add_argument(
            f"--{name}-pattern",
            action="append",
            dest=f"{name}_patterns",
            metavar="PATTERN",
            help=f"files {'to copy' if name == 'allow' else 'not to copy'} (repeatable); default: {' '.join(default)}",
        )
    return parser


def _bucket(name: str) -> str:
    if not name.strip() or "/" in name:
        raise CopyError(f"bucket {name!r}: give the bucket's name alone (no s3://, no prefix)")
    return name


def _endpoint(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CopyError(f"Hub endpoint {url!r}: give an http(s):// URL, e.g. {settings.HUB_ENDPOINT}")
    return url


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    http = HttpClient(cancelled=stop)
    started = time.monotonic()
    with _ctrl_c_stops(http):
        try:
            return _copy(args, http, started)
        except CopyCancelled:
            return _interrupted(None)
        except NoRegionError:
            return _fail("no AWS region: pass --region or set AWS_REGION", USAGE)
        except NoCredentialsError:
            return _fail("no AWS credentials found: configure a profile, or set AWS_PROFILE or AWS_ACCESS_KEY_ID")
        except ClientError as error:
            return _fail(_aws_error(error, args))
        except (CopyError, TransientError, BotoCoreError) as error:
            if stop.is_set():
                return _interrupted(None)
            return _fail(str(error))


def _copy(args: argparse.Namespace, http: HttpClient, started: float) -> int:
    session = boto3.session.Session(region_name=args.region)
    token = read_hub_token(session.client("secretsmanager"), args.token_secret) if args.token_secret else None
    token = token or normalise_token(os.environ.get("HF_TOKEN"), "HF_TOKEN")
    engine = CopySettings(part_size=args.part_size_mb * MIB, max_in_flight=args.max_in_flight)
    s3_config = copy_s3_config(engine.max_in_flight * args.parallel_files)
    uploads = RunUploads(session.client("s3", endpoint_url=args.s3_endpoint_url, config=s3_config))
    retry = RetryPolicy(sleep=_sleep_unless(http.cancelled))
    hub = HubApi(args.hub_endpoint, token, http=http, retry=retry, token_hint=TOKEN_HINT)
    try:
        result = copy_snapshot(
            FileCopier(hub, uploads, engine),
            args.repo_id,
            args.revision,
            args.bucket,
            args.parallel_files,
            args.allow_patterns or settings.ALLOW_PATTERNS,
            args.ignore_patterns or settings.IGNORE_PATTERNS,
        )
    except (CopyError, TransientError, BotoCoreError, ClientError):
        if http.cancelled.is_set():
            return _interrupted(uploads)
        raise
    seconds = time.monotonic() - started
    print(f"{result.s3_uri} ({result.commit}): {result.bytes_copied / 1e6:.1f} MB copied in {seconds:.1f}s")
    return 0


def _interrupted(uploads: RunUploads | None) -> int:
    aborted = uploads.aborted if uploads else 0
    print(
        f"interrupted: stopped; {aborted} unfinished upload(s) of this run aborted (other runs' untouched); "
        "files already copied stay, and a rerun skips them",
        file=sys.stderr,
    )
    return INTERRUPTED


def _fail(message: str, status: int = FAILED) -> int:
    print(f"copy failed: {message}", file=sys.stderr)
    return status


def _aws_error(error: ClientError, args: argparse.Namespace) -> str:
    code = error.response.get("Error", {}).get("Code", "")
    if code == "NoSuchBucket":
        return f"bucket {args.bucket!r} does not exist (or is not in this account): create it or fix --bucket"
    if code == "ResourceNotFoundException" and error.operation_name == "GetSecretValue":
        return f"secret {args.token_secret!r} not found in this account and region: fix --token-secret or --region"
    return str(error)  # botocore's own line: "An error occurred (Code) when calling the Op operation: message"


def _sleep_unless(stop: threading.Event) -> Callable[[float], None]:
    """A retry wait (up to a rate limit's 5 minutes) that a stop ends at once."""

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise CopyCancelled("stopped during a retry wait (the run was interrupted)")

    return sleep


@contextmanager
def _ctrl_c_stops(http: HttpClient) -> Iterator[None]:
    """Ctrl-C stops the copy instead of raising KeyboardInterrupt in the main thread only (which would leave the
    workers copying, and a second Ctrl-C would leave their uploads open): every worker stops at its next request,
    read or wait, and aborts its upload. Later Ctrl-Cs change nothing while that happens."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_ctrl_c(signum: int, frame: Any) -> None:
        if not http.cancelled.is_set():
            http.cancelled.set()
            threading.Thread(target=http.interrupt, name="interrupt", daemon=True).start()

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


if __name__ == "__main__":
    sys.exit(main())
