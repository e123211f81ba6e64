"""The platform's load test: `locust -f loadtests/locustfile.py` (see loadtests/README.md).

The journeys are the users; CNOP_SHAPE picks the load shape (smoke, steady,
step, spike, stress, soak; none: Locust's own -u/-r). The same file runs in
one process and as a master with workers.
"""

import os

from cnop_loadtests import recorder  # noqa: F401 - registers the hooks and --cnop-* options
from cnop_loadtests.journeys import Browser, Newcomer, Trader
from cnop_loadtests.shapes import SHAPES

__all__ = ["Browser", "Newcomer", "Trader"]

if os.environ.get("CNOP_SHAPE"):
    Shape = SHAPES[os.environ["CNOP_SHAPE"]]
