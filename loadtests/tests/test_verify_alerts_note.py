"""What `make verify` says it leaves behind: the alerts its own attack checks trip."""

import pytest

from cnop_alerts.model import Alert
from cnop_alerts.rules import alert_groups
from cnop_loadtests.verify import EXPECTED_ALERTS, alerts_note
from cnop_policies import slo

pytestmark = pytest.mark.unit


def test_the_expected_alerts_are_rules_that_exist():
    names = {
        rule.name
        for group in alert_groups(slo.load())
        for rule in group.rules
        if isinstance(rule, Alert)
    }
    assert set(EXPECTED_ALERTS) <= names


def test_verifys_own_alerts_are_named_apart_from_any_other():
    lines = alerts_note(
        [
            {"name": "SuspiciousLoginActivity", "state": "firing"},
            {"name": "AuthValidationFailureRatioHigh", "state": "pending"},
            {"name": "ServiceDown", "state": "firing"},
        ]
    )
    text = "\n".join(lines)
    assert "SuspiciousLoginActivity: the auth suite's password guessing" in text
    assert (
        "alerts now, from verify: AuthValidationFailureRatioHigh (pending),"
        " SuspiciousLoginActivity (firing)" in text
    )
    assert "NOT from verify (look at these): ServiceDown (firing)" in text


def test_nothing_active_and_no_answer_are_said_as_such():
    assert "alerts now, from verify: none" in alerts_note([])
    assert "NOT from verify" not in "\n".join(alerts_note([]))
    assert "did not answer" in alerts_note(None)[-1]
