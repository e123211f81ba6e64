"""One canonical-base64url rule, run against both implementations (issue 21).

Decoders take more than one spelling of the same bytes: "=" appended, a last
character carrying stray low bits ("QR" and "QQ" both decode to b"A"), letters
outside the alphabet silently dropped. Every signature, token and claims segment
we parse must be the one spelling an encoder writes; the auth service keeps its
own copy of the rule (it shares nothing by design), so both read these alike.
"""

from __future__ import annotations

import base64
import os

import pytest

from cnop_auth.tokens import canonical_b64url as auth_rule
from cnop_common.assertions import canonical_b64url as common_rule

pytestmark = pytest.mark.unit

RULES = {"cnop_common": common_rule, "auth": auth_rule}
REFUSED = ["QR", "QUJ", "QQ=", "QUI=", "Q", "QQ==", "Q Q", "QQ\n", "Q+Q", "Q/Q", "QQ.", "é"]


@pytest.mark.parametrize("rule", RULES.values(), ids=RULES)
def test_what_an_encoder_writes_is_canonical(rule):
    for size in range(64):
        written = base64.urlsafe_b64encode(os.urandom(size)).rstrip(b"=").decode()
        assert rule(written), written


@pytest.mark.parametrize("rule", RULES.values(), ids=RULES)
@pytest.mark.parametrize("spelling", REFUSED)
def test_every_other_spelling_is_not(rule, spelling):
    assert not rule(spelling)
