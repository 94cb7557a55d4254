"""Copy a Hub revision into S3 from a shell (copies that outgrow Lambda):

    python -m weights_copy deepseek-ai/DeepSeek-R1 --revision main --bucket my-weights \
        [--token-secret hf/token] [--part-size-mb 64] [--max-in-flight 8] [--parallel-files 4]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

import boto3

from weights_copy.copier import MIB, CopySettings, FileCopier
from weights_copy.errors import CopyError, TransientError
from weights_copy.hub import DEFAULT_ENDPOINT, HubApi
from weights_copy.s3_config import copy_s3_config
from weights_copy.snapshot_copy import copy_snapshot
from weights_copy.token import normalise_token, read_hub_token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weights_copy", description=__doc__.split("\n\n")[0])
    parser.add_argument("repo_id")
    parser.add_argument("--revision", default="main")
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--token-secret", help="Secrets Manager id of a Hub token (or set HF_TOKEN)")
    parser.add_argument("--hub-endpoint", default=os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT))
    parser.add_argument("--s3-endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL_S3"))
    parser.add_argument("--part-size-mb", type=int, default=64)
    parser.add_argument("--max-in-flight", type=int, default=8)
    parser.add_argument("--parallel-files", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    session = boto3.session.Session()
    started = time.monotonic()
    try:
        token = read_hub_token(session.client("secretsmanager"), args.token_secret) if args.token_secret else None
        token = token or normalise_token(os.environ.get("HF_TOKEN"), "HF_TOKEN")
        settings = CopySettings(part_size=args.part_size_mb * MIB, max_in_flight=args.max_in_flight)
        s3_config = copy_s3_config(settings.max_in_flight * args.parallel_files)
        s3 = session.client("s3", endpoint_url=args.s3_endpoint_url, config=s3_config)
        copier = FileCopier(HubApi(args.hub_endpoint, token), s3, settings)
        result = copy_snapshot(copier, args.repo_id, args.revision, args.bucket, args.parallel_files)
    except (CopyError, TransientError) as error:
        print(f"copy failed: {error}", file=sys.stderr)
        return 1
    seconds = time.monotonic() - started
    print(f"{result.s3_uri} ({result.commit}): {result.bytes_copied / 1e6:.1f} MB copied in {seconds:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
