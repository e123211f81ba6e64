"""The Locust side (journeys, shapes, hooks) imports and registers what the runs rely on.

Locust patches the standard library with gevent when imported, so this runs in
a process of its own, never in the test session's.
"""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

PROBE = """
import os
os.environ["CNOP_SHAPE"] = "step"
from locust.env import Environment
from locust.argument_parser import parse_options
import importlib.util
spec = importlib.util.spec_from_file_location("locustfile", "loadtests/locustfile.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
options = parse_options(
    ["-f", "loadtests/locustfile.py", "--cnop-step-rps", "7", "--cnop-max-steps", "3"]
)
users = [module.Browser, module.Newcomer, module.Trader]
env = Environment(user_classes=users, shape_class=module.Shape(), parsed_options=options)
runner = env.create_local_runner()
shape = env.shape_class
shape.reset_time()
names = sorted(u.__name__ for u in env.user_classes)
print(shape.tick(), [s.users for s in shape.log.stages], names)
"""


def test_the_locustfile_loads_its_users_shape_and_options():
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.strip().splitlines()[-1]
        == "(7, 3.5) [7, 14, 21] ['Browser', 'Newcomer', 'Trader']"
    )
