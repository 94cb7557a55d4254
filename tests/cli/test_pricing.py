"""Prices: the Price List API read through a real boto3 client whose responses botocore's Stubber checks against
the pricing service model (never AWS), the bundled snapshot, --price, and which one a figure says it came from."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tgi_sagemaker.cli.pricing import (
    SNAPSHOT,
    PriceBook,
    Snapshot,
    fetch_hosting_price,
    prices_from_text,
    take_snapshot,
)


def _product(instance_type: str, region: str, usd: str, *, component: str = "Hosting") -> str:
    """One PriceList item as the API returns it: a JSON document in a string (the AmazonSageMaker offer's shape)."""
    sku = f"SKU{abs(hash((instance_type, region, component))) % 10**8}"
    return json.dumps(
        {
            "product": {
                "productFamily": "ML Instance",
                "attributes": {"instanceName": instance_type, "regionCode": region, "component": component},
                "sku": sku,
            },
            "serviceCode": "AmazonSageMaker",
            "terms": {
                "OnDemand": {
                    f"{sku}.JRTCKXETXF": {
                        "priceDimensions": {
                            f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                                "unit": "Hrs",
                                "pricePerUnit": {"USD": usd},
                                "description": f"${usd} per Hosting {instance_type} hour",
                            }
                        },
                        "sku": sku,
                    }
                }
            },
        }
    )


def _filters(instance_type: str, region: str) -> list[dict[str, str]]:
    return [
        {"Type": "TERM_MATCH", "Field": "instanceName", "Value": instance_type},
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
        {"Type": "TERM_MATCH", "Field": "component", "Value": "Hosting"},
    ]


@pytest.fixture
def pricing(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Stubber]]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("pricing", region_name="us-east-1")
    with Stubber(client) as stubber:  # refuses a request or a response the service model does not allow
        yield client, stubber
        stubber.assert_no_pending_responses()


def _expect(stubber: Stubber, instance_type: str, region: str, items: list[str], token: str | None = None) -> None:
    params: dict[str, Any] = {
        "ServiceCode": "AmazonSageMaker",
        "Filters": _filters(instance_type, region),
        "FormatVersion": "aws_v1",
    }
    if token:
        params["NextToken"] = token
    response: dict[str, Any] = {"FormatVersion": "aws_v1", "PriceList": items}
    stubber.add_response("get_products", response, params)


def test_the_hosting_price_of_one_type_in_one_region_across_pages(pricing: tuple[Any, Stubber]) -> None:
    client, stubber = pricing
    stubber.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": [], "NextToken": "page-2"},
        {
            "ServiceCode": "AmazonSageMaker",
            "Filters": _filters("ml.g6e.xlarge", "eu-west-1"),
            "FormatVersion": "aws_v1",
        },
    )
    _expect(stubber, "ml.g6e.xlarge", "eu-west-1", [_product("ml.g6e.xlarge", "eu-west-1", "2.0310000000")], "page-2")
    assert fetch_hosting_price(client, "ml.g6e.xlarge", "eu-west-1") == 2.031


def test_two_prices_for_one_filter_are_refused_and_none_is_none(pricing: tuple[Any, Stubber]) -> None:
    client, stubber = pricing
    items = [_product("ml.g5.xlarge", "us-east-1", "1.0"), _product("ml.g5.xlarge", "us-east-1", "2.0", component="x")]
    _expect(stubber, "ml.g5.xlarge", "us-east-1", items)
    with pytest.raises(ValueError, match=r"several hosting prices \[1.0, 2.0\]"):
        fetch_hosting_price(client, "ml.g5.xlarge", "us-east-1")
    _expect(stubber, "ml.g5.xlarge", "us-east-1", [])
    assert fetch_hosting_price(client, "ml.g5.xlarge", "us-east-1") is None


def test_every_figure_says_where_it_comes_from(pricing: tuple[Any, Stubber]) -> None:
    client, stubber = pricing
    snapshot = Snapshot(
        taken="2026-11-02", source="the AWS Price List API", prices={"us-east-1": {"ml.g5.xlarge": 1.5}}
    )
    book = PriceBook(overrides={"ml.g6e.xlarge": 1.25}, client=client, snapshot=snapshot)
    assert book.price("ml.g6e.xlarge", "us-east-1").describe() == "$1.25/h (--price on the command line)"  # type: ignore[union-attr]
    _expect(stubber, "ml.g5.xlarge", "us-east-1", [_product("ml.g5.xlarge", "us-east-1", "1.4")])
    from_api = book.price("ml.g5.xlarge", "us-east-1")
    assert from_api is not None and (from_api.usd_per_hour, from_api.source) == (1.4, "AWS Price List API")
    stubber.add_client_error("get_products", "AccessDeniedException", "not authorized to perform pricing:GetProducts")
    from_snapshot = book.price("ml.g5.xlarge", "us-east-1")  # the API refused: the snapshot, and a note says why
    assert from_snapshot is not None
    assert from_snapshot.describe() == "$1.5/h (bundled snapshot of the AWS Price List API, 2026-11-02)"
    assert "AccessDeniedException" in book.notes[0] and "not authorized" in book.notes[0]
    offline = PriceBook(snapshot=snapshot)
    assert offline.price("ml.p5.48xlarge", "us-east-1") is None
    assert offline.missing("ml.p5.48xlarge", "us-east-1") == (
        "no price for ml.p5.48xlarge in us-east-1: not given with --price, not from the Price List API, not in the "
        "snapshot of 2026-11-02. Fix: --price ml.p5.48xlarge=USD_PER_HOUR"
    )


def test_a_snapshot_is_taken_from_the_api_and_the_bundled_one_says_what_it_holds(
    pricing: tuple[Any, Stubber], tmp_path: Path
) -> None:
    client, stubber = pricing
    for region, usd in (("us-east-1", "1.1"), ("us-west-2", "1.2")):
        _expect(stubber, "ml.g5.xlarge", region, [_product("ml.g5.xlarge", region, usd)])
        _expect(stubber, "ml.p5.48xlarge", region, [])  # not offered there: left out, not zero
    taken = take_snapshot(client, ["ml.g5.xlarge", "ml.p5.48xlarge"], ["us-east-1", "us-west-2"], today="2026-12-01")
    assert taken["prices"] == {"us-east-1": {"ml.g5.xlarge": 1.1}, "us-west-2": {"ml.g5.xlarge": 1.2}}
    (tmp_path / "snapshot.json").write_text(json.dumps(taken))
    loaded = Snapshot.load(tmp_path / "snapshot.json")
    assert loaded.price("ml.g5.xlarge", "us-west-2").as_of == "2026-12-01"  # type: ignore[union-attr]
    bundled = Snapshot.load(SNAPSHOT)
    # the bundled snapshot is honest about itself: no figure without a date and an API source
    assert bool(bundled.prices) == bool(bundled.taken)
    assert "Price List API" in bundled.source


def test_bad_price_options_are_refused_with_the_fix() -> None:
    assert prices_from_text(["ml.g5.xlarge=1.5", "ml.g6e.xlarge=2"]) == {"ml.g5.xlarge": 1.5, "ml.g6e.xlarge": 2.0}
    with pytest.raises(ValueError) as refused:
        prices_from_text(["g5.xlarge=1", "ml.g5.xlarge=cheap", "ml.g6.xlarge=0"])
    assert str(refused.value).splitlines() == [
        "--price 'g5.xlarge=1': 'g5.xlarge' is not a SageMaker hosting instance type: use the form "
        "'ml.<family>.<size>'; did you mean 'ml.g5.xlarge' or 'ml.g5.8xlarge' or 'ml.g5.4xlarge'? "
        "Fix: e.g. --price ml.g6e.xlarge=1.86",
        "--price 'ml.g5.xlarge=cheap': not INSTANCE=USD_PER_HOUR. Fix: e.g. --price ml.g6e.xlarge=1.86",
        "--price 'ml.g6.xlarge=0': needs a positive, finite hourly price in USD. Fix: e.g. --price ml.g6e.xlarge=1.86",
    ]
