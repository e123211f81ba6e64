"""The bench's profile table puts each py-spy sample in the part of a request it belongs to."""

import pytest

from cnop_loadtests.profile import OTHER, part_of, shares

pytestmark = pytest.mark.unit

LOOP = "run (asyncio/runners.py:118);_run_once (asyncio/base_events.py:1922)"
HANDLE = f"{LOOP};__call__ (cnop_gateway/app.py:95);_handle (cnop_gateway/app.py:140)"


def test_the_innermost_frame_that_names_a_part_decides():
    # A log call made from the gateway's code counts as logging, not as the gateway.
    assert part_of(f"{HANDLE};info (structlog/stdlib.py:222)") == "metrics and access log"
    # The gateway's own code with nothing deeper that names a part.
    assert part_of(HANDLE).startswith("gateway logic")
    # Signing inside the forward, redis inside admission.
    signing = f"{HANDLE};sign (cnop_common/assertions.py:107)"
    assert part_of(signing).startswith("identity signature")
    admit = f"{HANDLE};admit (cnop_gateway/shared.py:187);execute_command (redis/client.py:974)"
    assert part_of(admit).startswith("limits store")


def test_the_event_loop_is_what_is_left_with_no_request_code_on_the_stack():
    assert part_of(LOOP).startswith("event loop")
    assert part_of("<module> (somewhere.py:1)") == OTHER


def test_shares_weigh_each_stack_by_its_sample_count():
    raw = f"{LOOP} 3\n{HANDLE};sign (cnop_common/assertions.py:107) 1\nnot a sample line\n"
    total, parts = shares(raw)
    assert total == 4
    assert parts[0] == ("event loop (uvloop, asyncio)", 0.75)
    assert parts[1] == ("identity signature (Ed25519, SHA-256)", 0.25)
    assert shares("") == (0, [])
