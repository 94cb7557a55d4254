"""On-demand prices of SageMaker real-time inference (hosting) instances, each figure with its source and date.

Where a price comes from, first found wins:
1. ``--price INSTANCE=USD`` on the command line (the user's own figure: a negotiated rate, a Savings Plan);
2. the AWS Price List API (``pricing:GetProducts``, service ``AmazonSageMaker``, component ``Hosting``), when
   credentials allow; its figures are the list prices on the day they are fetched;
3. the snapshot bundled with the package (``prices/sagemaker_hosting.json``), written by
   ``bench/refresh_prices.py`` from the same API; it says when it was taken.
A figure none of them has is missing, and says so: cost is never computed from a guess.

The Price List response: ``PriceList`` is a list of JSON documents (strings), one a product, each
``{"product": {"attributes": {"instanceName", "regionCode", "component", ...}}, "terms": {"OnDemand": {term:
{"priceDimensions": {rate: {"unit": "Hrs", "pricePerUnit": {"USD": "1.5150000000"}}}}}}}`` (botocore's pricing
service model: ``PriceListJsonItems``; the product attributes as the AmazonSageMaker offer file names them).
Checked against the Price List's own answers as published copies hold them (no credentials here): AmazonSageMaker's
attribute names include ``instanceName``, ``regionCode`` and ``component``, and ``component`` tells ``Hosting``
(real-time endpoints) from ``AsyncInf``, ``BatchTransform``, ``Training`` and ``Notebook`` (DescribeServices and
GetAttributeValues, 2022-09-29, github.com/alanwsmith/aws-price-list-api-values.alanwsmith.com @ 43ff133e,
site/scripts/01/service_list.json and site/scripts/02/raw-data/AmazonSageMaker--component.json); instance names
carry the ``ml.`` prefix and hourly dimensions the unit ``Hrs``; 2026 ``get-products`` output for
``USE2-Host:ml.g6.xlarge`` still has that form (github.com/xbill9/sagemaker-gemma @ 6c18089f,
docs/articles/evidence/pricing-us-east-2.txt).
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from tgi_sagemaker.catalog.instance_types import name_form_problem
from tgi_sagemaker.cli.option_checks import sentence

SNAPSHOT = Path(__file__).parent / "prices" / "sagemaker_hosting.json"
PRICE_LIST_REGION = "us-east-1"  # the Price List API answers from us-east-1 (and ap-south-1), for every region
SERVICE_CODE = "AmazonSageMaker"
HOSTING = "Hosting"  # the product component of real-time inference (not training, notebooks, batch transform)


@dataclass(frozen=True)
class HourlyPrice:
    instance_type: str
    region: str | None  # None: a --price figure, given for every region
    usd_per_hour: float
    source: str  # where the figure comes from, as a reader should see it
    as_of: str  # the date the figure was true (ISO), or "" for a figure given on the command line

    def describe(self) -> str:
        when = f", {self.as_of}" if self.as_of else ""
        return f"${self.usd_per_hour:.4g}/h ({self.source}{when})"


class PriceListClient(Protocol):
    """What this module calls of boto3's ``pricing`` client (a stub in tests)."""

    def get_products(self, **kwargs: Any) -> dict[str, Any]: ...


def prices_from_text(values: list[str] | None) -> dict[str, float]:
    """``--price ml.g6e.xlarge=1.861`` (repeated) as {instance type: USD an hour}: each an instance type of the form
    ``ml.<family>.<size>`` (a typo gets the closest listed names) and a finite positive figure; one type given
    two different prices is refused (which one is meant?)."""
    prices: dict[str, float] = {}
    problems = []
    fix = "Fix: e.g. --price ml.g6e.xlarge=1.86"
    for text in values or ():
        name, _, usd = text.partition("=")
        name = name.strip()
        try:
            price = float(usd)
        except ValueError:
            problems.append(f"--price {text!r}: not INSTANCE=USD_PER_HOUR. {fix}")
            continue
        form = name_form_problem(name)
        if form is not None:
            problems.append(sentence(f"--price {text!r}: {name!r} {form}") + f" {fix}")
        elif not (math.isfinite(price) and price > 0):
            problems.append(f"--price {text!r}: needs a positive, finite hourly price in USD. {fix}")
        elif name in prices and prices[name] != price:
            problems.append(
                f"--price {text!r}: {name} is already priced {prices[name]:g} by an earlier --price. "
                "Fix: give each instance type one --price"
            )
        else:
            prices[name] = price
    if problems:
        raise ValueError("\n".join(problems))
    return prices


def fetch_hosting_price(client: PriceListClient, instance_type: str, region: str) -> float | None:
    """The on-demand hourly list price of one hosting instance type in one region; None when the list has none.

    Raises ``ValueError`` when the list gives two different prices for the filter: a figure that cannot be told
    apart is not used.
    """
    filters = [
        {"Type": "TERM_MATCH", "Field": field_name, "Value": value}
        for field_name, value in (("instanceName", instance_type), ("regionCode", region), ("component", HOSTING))
    ]
    found: set[float] = set()
    token = None
    while True:
        page = client.get_products(
            ServiceCode=SERVICE_CODE, Filters=filters, FormatVersion="aws_v1", **({"NextToken": token} if token else {})
        )
        for item in page.get("PriceList", []):
            found |= _hourly_on_demand_usd(json.loads(item) if isinstance(item, str) else item)
        token = page.get("NextToken")
        if not token:
            break
    if len(found) > 1:
        raise ValueError(f"{instance_type} in {region}: the Price List has several hosting prices {sorted(found)}")
    return found.pop() if found else None


def _hourly_on_demand_usd(product: Mapping[str, Any]) -> set[float]:
    prices = set()
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if dimension.get("unit") == "Hrs" and usd is not None and float(usd) > 0:
                prices.add(float(usd))
    return prices


@dataclass(frozen=True)
class Snapshot:
    """Prices fetched earlier from the Price List API: ``{region: {instance type: USD an hour}}``."""

    taken: str  # ISO date, or "" when no snapshot was ever taken
    source: str
    prices: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = SNAPSHOT) -> Snapshot:
        data = json.loads(path.read_text())
        return cls(taken=data["taken"], source=data["source"], prices=data["prices"])

    def price(self, instance_type: str, region: str) -> HourlyPrice | None:
        usd = self.prices.get(region, {}).get(instance_type)
        if usd is None:
            return None
        return HourlyPrice(instance_type, region, usd, f"bundled snapshot of {self.source}", self.taken)


def take_snapshot(
    client: PriceListClient, instance_types: list[str], regions: list[str], *, today: str | None = None
) -> dict[str, Any]:
    """What ``bench/refresh_prices.py`` writes: every listed type's hosting price in every region asked for."""
    prices: dict[str, dict[str, float]] = {}
    for region in regions:
        for instance_type in instance_types:
            usd = fetch_hosting_price(client, instance_type, region)
            if usd is not None:
                prices.setdefault(region, {})[instance_type] = usd
    return {
        "taken": today or datetime.now(UTC).date().isoformat(),
        "source": f"the AWS Price List API ({SERVICE_CODE}, component {HOSTING}, on-demand)",
        "prices": prices,
    }


class PriceBook:
    """Prices a command may use: the user's, then the Price List API (when a client is given), then the snapshot.

    ``overrides``: ``--price`` figures. Default: none. ``client``: a Price List client. Default: none (the API is
    not asked). ``snapshot``: Default: the bundled one.
    """

    def __init__(
        self,
        *,
        overrides: Mapping[str, float] | None = None,
        client: PriceListClient | None = None,
        snapshot: Snapshot | None = None,
    ) -> None:
        self._overrides = dict(overrides or {})
        self._client = client
        self._snapshot = snapshot or Snapshot.load()
        self._today = datetime.now(UTC).date().isoformat()
        self.notes: list[str] = []  # why the API was not used, said once
        self._asked: set[str] = set()  # the instance types a price was asked for

    def unused_override_notes(self, *, users: str) -> list[str]:
        """A note for each ``--price`` no price was asked for (a typo, or a type none of ``users`` runs on), with
        the closest type that was asked for."""
        notes = []
        for name in self._overrides:
            if name in self._asked:
                continue
            close = difflib.get_close_matches(name, sorted(self._asked), n=1)
            meant = f" (did you mean {close[0]}?)" if close else ""
            notes.append(f"note: --price {name} prices nothing: no {users} runs on it{meant}")
        return notes

    def price(self, instance_type: str, region: str | None) -> HourlyPrice | None:
        self._asked.add(instance_type)
        if instance_type in self._overrides:
            return HourlyPrice(instance_type, None, self._overrides[instance_type], "--price on the command line", "")
        if region is None:
            return None
        if self._client is not None:
            try:
                usd = fetch_hosting_price(self._client, instance_type, region)
            except Exception as error:  # no credentials, no network, access denied: the snapshot, and say why
                self._note(f"the AWS Price List API could not be used ({type(error).__name__}: {error})")
            else:
                if usd is not None:
                    return HourlyPrice(instance_type, region, usd, "AWS Price List API", self._today)
        return self._snapshot.price(instance_type, region)

    def missing(self, instance_type: str, region: str | None) -> str:
        """Why there is no price, and the fix."""
        where = f"in {region}" if region else "(no region: pass --region or set the config's region)"
        snapshot = f"the snapshot of {self._snapshot.taken}" if self._snapshot.taken else "the bundled snapshot (empty)"
        return (
            f"no price for {instance_type} {where}: not given with --price, not from the Price List API, not in "
            f"{snapshot}. Fix: --price {instance_type}=USD_PER_HOUR"
        )

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def price_list_client() -> PriceListClient | None:
    """boto3's Price List client when credentials are configured; None otherwise (the snapshot is used)."""
    import boto3

    session = boto3.Session()
    if session.get_credentials() is None:
        return None
    client: PriceListClient = session.client("pricing", region_name=PRICE_LIST_REGION)
    return client
