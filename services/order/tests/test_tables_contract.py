"""The order service writes user-service tables in trades: both must agree on their schema."""

import pytest

from cnop_order import tables as order_tables
from cnop_user import tables as user_tables

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", ["BALANCES", "LEDGER", "HOLDINGS"])
def test_order_service_view_of_user_tables_matches_the_owner(name):
    assert getattr(order_tables, name) == getattr(user_tables, name)


def test_every_table_name_is_unique_across_services():
    names = [spec.name for spec in (*user_tables.OWN_TABLES, *order_tables.OWN_TABLES)]
    assert len(names) == len(set(names))
