"""The limits the web UI shows beside its forms are the ones the services enforce (issue 24).

The web UI cannot ask the user or order service for their settings (it talks to
the gateway only), so it reads the same settings under the same names; their
defaults must agree, or the form would promise what the service refuses.
"""

from __future__ import annotations

import pytest
from pydantic_settings import BaseSettings

from cnop_order.settings import OrderSettings
from cnop_user.models import MAX_AMOUNT
from cnop_user.settings import UserSettings
from cnop_web.settings import MAX_DEPOSIT, WebSettings

pytestmark = pytest.mark.unit


def _default(settings: type[BaseSettings], name: str) -> object:
    return settings.model_fields[name].default


@pytest.mark.parametrize(
    ("name", "service"),
    [
        ("order_value_cap", OrderSettings),
        ("daily_deposit_limit", UserSettings),
        ("daily_withdraw_limit", UserSettings),
    ],
)
def test_each_limit_the_ui_shows_defaults_to_the_services_value(name, service):
    assert _default(WebSettings, name) == _default(service, name)


def test_the_largest_deposit_the_ui_shows_is_the_user_services_rule():
    assert MAX_DEPOSIT == MAX_AMOUNT
