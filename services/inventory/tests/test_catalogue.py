"""The shipped catalogue: at least 20 real assets with plausible prices, BTC among them."""

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from cnop_inventory.catalogue import Asset, Catalogue
from cnop_inventory.settings import DEFAULT_CATALOGUE

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def catalogue():
    return Catalogue.load(DEFAULT_CATALOGUE)


def test_at_least_twenty_assets_including_bitcoin(catalogue):
    assert len(catalogue.assets) >= 20
    btc = catalogue.by_id["BTC"]
    assert btc.name == "Bitcoin"
    assert Decimal(1000) < btc.price_usd < Decimal(1_000_000)


def test_prices_are_exact_decimals_and_ranks_unique(catalogue):
    ranks = [a.market_cap_rank for a in catalogue.assets]
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == len(ranks)
    for asset in catalogue.assets:
        assert isinstance(asset.price_usd, Decimal)
        assert asset.price_usd > 0


def test_listing_has_every_key_and_counts(catalogue):
    listing = catalogue.listing(active_only=False, limit=250)
    assert listing["total_count"] == len(catalogue.assets)
    assert listing["active_count"] == sum(a.is_active for a in catalogue.assets)
    for row in listing["data"]:
        assert set(row) == {
            "asset_id",
            "name",
            "symbol",
            "description",
            "category",
            "price_usd",
            "is_active",
            "image",
            "market_cap_rank",
            "price_change_percentage_24h",
            "market_cap",
            "total_volume_24h",
        }


def test_bad_entry_stops_loading(tmp_path):
    bad = tmp_path / "assets.json"
    bad.write_text(
        '{"assets": [{"asset_id": "BTC", "name": "Bitcoin", "symbol": "BTC", "price_usd": -5}]}'
    )
    with pytest.raises(ValueError, match="price_usd"):
        Catalogue.load(bad)


def test_duplicate_ids_are_refused():
    asset = Asset(asset_id="BTC", name="Bitcoin", symbol="BTC", price_usd=Decimal(1))
    with pytest.raises(ValueError, match="duplicate"):
        Catalogue([asset, asset])


MARKET_FIELDS = (
    "price_change_24h",
    "price_change_percentage_7d",
    "price_change_percentage_30d",
    "high_24h",
    "low_24h",
    "ath_change_percentage",
    "ath_date",
    "atl_change_percentage",
    "atl_date",
)


def test_every_asset_carries_the_original_platforms_market_data(catalogue):
    for asset in catalogue.assets:
        data = catalogue.detail(asset)["data"]
        missing = [field for field in MARKET_FIELDS if data[field] is None]
        assert missing == [], asset.asset_id
        assert Decimal(data["low_24h"]) <= Decimal(data["price_usd"]) <= Decimal(data["high_24h"])
        assert data["ath_date"].endswith("Z")


def test_an_all_time_low_below_the_price_quantum_is_shown_exactly(catalogue):
    # SHIB's low is 0.000000000056366: at eight decimals it would read "0.00".
    assert catalogue.detail(catalogue.by_id["SHIB"])["data"]["atl"] == "0.000000000056366"
    assert catalogue.detail(catalogue.by_id["SHIB"])["data"]["price_usd"] == "0.0000245"


def _btc(**changes: object) -> dict[str, object]:
    entry = {
        "asset_id": "BTC",
        "name": "Bitcoin",
        "symbol": "BTC",
        "price_usd": "100",
        "high_24h": "110",
        "low_24h": "90",
        "ath": "200",
        "ath_change_percentage": "-50",
        "ath_date": "2024-03-14T00:00:00Z",
        "atl": "50",
        "atl_change_percentage": "100",
        "atl_date": "2013-07-06T00:00:00Z",
        "price_change_24h": "2",
        "price_change_percentage_24h": "2.04",
        "last_updated": "2026-11-27T00:00:00Z",
    }
    return {**entry, **changes}


def test_consistent_market_data_loads():
    assert Asset.model_validate(_btc()).ath_change_percentage == Decimal("-50")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"low_24h": "101"}, "between low_24h and high_24h"),
        ({"ath": "99", "ath_change_percentage": "1.01"}, "beyond its ath"),
        ({"ath_change_percentage": "-40"}, "ath_change_percentage is -40, the prices say -50.00"),
        ({"atl_change_percentage": "90"}, "atl_change_percentage is 90, the prices say 100.00"),
        ({"price_change_24h": "-2"}, "differ in sign"),
        ({"ath_date": "2027-01-01T00:00:00Z"}, "ath_date is after last_updated"),
        ({"atl_date": "2013-07-06"}, "timezone"),
        ({"ath": "0"}, "greater than 0"),
    ],
)
def test_contradictory_market_data_stops_loading_and_says_why(changes, message):
    with pytest.raises(ValueError, match=message):
        Asset.model_validate(_btc(**changes))


def test_every_description_takes_the_right_article():
    # "a exchange crypto asset" read badly on the asset page (issue 24).
    data = json.loads(Path(DEFAULT_CATALOGUE).read_text())
    descriptions = [asset["description"] for asset in data["assets"]]
    assert descriptions
    wrong = [text for text in descriptions if re.search(r"\ba [aeiou]", text)]
    wrong += [text for text in descriptions if re.search(r"\ban [^aeiou\s]", text)]
    assert wrong == []
