"""Refresh the price snapshot bundled with the command line (constructs/tgi_sagemaker/cli/prices/).

Asks the AWS Price List API (``pricing:GetProducts``; any credentials allowed to call it, from any account) for
the on-demand SageMaker hosting price of every instance type in the catalog, in each region named, and writes
the snapshot with today's date. Run it, read the diff, commit it:

    AWS_PROFILE=... .venv/bin/python bench/refresh_prices.py us-east-1 us-west-2 eu-west-1
"""

from __future__ import annotations

import argparse
import json
import sys

import boto3

from tgi_sagemaker.catalog.instance_types import INSTANCE_TYPES
from tgi_sagemaker.cli.pricing import PRICE_LIST_REGION, SNAPSHOT, take_snapshot

DEFAULT_REGIONS = ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("regions", nargs="*", default=DEFAULT_REGIONS, help="regions to price. Default: six")
    args = parser.parse_args(argv)
    client = boto3.client("pricing", region_name=PRICE_LIST_REGION)
    snapshot = take_snapshot(client, sorted(INSTANCE_TYPES), list(args.regions))
    SNAPSHOT.write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n")
    counted = sum(len(prices) for prices in snapshot["prices"].values())
    print(f"{SNAPSHOT}: {counted} prices in {len(snapshot['prices'])} regions, taken {snapshot['taken']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
