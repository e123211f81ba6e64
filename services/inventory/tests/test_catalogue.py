"""The shipped catalogue: at least 20 real assets with plausible prices, BTC among them."""

from decimal import Decimal

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
            "asset_id", "name", "symbol", "description", "category", "price_usd", "is_active",
            "image", "market_cap_rank", "price_change_percentage_24h", "market_cap",
            "total_volume_24h",
        }  # fmt: skip


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
