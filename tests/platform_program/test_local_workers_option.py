"""`python -m cnop_platform.local up --workers user=2`: worker counts per component,
instead of the catalogue's, for measuring what one more process of a service buys."""

import pytest

from cnop_catalogue import BY_NAME
from cnop_platform.local.__main__ import parse_workers
from cnop_platform.local.runner import LocalPlatform

pytestmark = pytest.mark.unit


def test_counts_are_read_per_component():
    assert parse_workers(["user=2", "gateway=1"]) == {"user": 2, "gateway": 1}
    assert parse_workers([]) == {}


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("auth=2", "the component must be one of"),  # auth runs one process
        ("nobody=2", "the component must be one of"),
        ("user=0", "whole number from 1 to 64"),
        ("user=65", "whole number from 1 to 64"),
        ("user=two", "whole number from 1 to 64"),
        ("user", "whole number from 1 to 64"),
    ],
)
def test_a_bad_value_is_refused_with_what_is_wrong(value, complaint):
    with pytest.raises(ValueError, match=complaint):
        parse_workers([value])


def test_the_environment_carries_the_count_or_the_footprints(tmp_path):
    platform = LocalPlatform(root=tmp_path, workers={"user": 2, "gateway": 1})
    assert platform.environment("user")["WORKERS"] == "2"
    assert "WORKERS" not in platform.environment("gateway")  # one process: nothing to say
    assert "WORKERS" not in platform.environment("order")
    default = LocalPlatform(root=tmp_path)
    assert default.environment("gateway")["WORKERS"] == str(BY_NAME["gateway"].footprint.workers)
