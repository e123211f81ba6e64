"""Password hashing (security case 24) and the timing-safe credential check."""

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from argon2 import extract_parameters
from argon2.low_level import Type

from cnop_user.passwords import Passwords
from cnop_user.settings import UserSettings
from tests.helpers import settings_kwargs

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def passwords():
    settings = UserSettings(**settings_kwargs("user"))
    return Passwords(
        memory_kib=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
    )


def test_hashes_are_argon2id_with_owasp_minimums(passwords):
    stored = passwords.hash("Str0ng!Passw0rd")
    params = extract_parameters(stored)
    assert params.type is Type.ID
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2
    assert stored.startswith("$argon2id$")


def test_verify(passwords):
    stored = passwords.hash("Str0ng!Passw0rd")
    assert passwords.verify(stored, "Str0ng!Passw0rd")
    assert not passwords.verify(stored, "Str0ng!Passw0rD")
    assert not passwords.verify("not a hash", "Str0ng!Passw0rd")


def test_unknown_user_costs_a_full_verification(passwords, monkeypatch):
    # No user: the check still runs one Argon2 verification, against a dummy hash
    # made with the same parameters, and fails even with the dummy's own password.
    # (Counted, not timed: timings belong in benchmarks.)
    verified: list[str] = []
    real = passwords._hasher

    class Counting:
        def verify(self, stored: str, password: str) -> bool:
            verified.append(stored)
            return bool(real.verify(stored, password))

        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

    monkeypatch.setattr(passwords, "_hasher", Counting())
    assert not passwords.verify(None, "not-a-real-password-0A!")
    stored = passwords.hash("Str0ng!Passw0rd")
    assert not passwords.verify(stored, "wrong")
    assert len(verified) == 2  # one full verification each, known user or not
    dummy, real = (extract_parameters(h) for h in verified)
    assert dummy == real


def test_settings_refuse_weaker_parameters(monkeypatch):
    monkeypatch.setenv("ARGON2_MEMORY_KIB", "1024")
    with pytest.raises(ValueError, match="argon2_memory_kib"):
        UserSettings(**settings_kwargs("user"))


class CountingHasher:
    """The real hasher, counting how many hashes run at the same moment."""

    def __init__(self, real) -> None:
        self.real = real
        self.inside = 0
        self.peak = 0
        self.lock = threading.Lock()

    def hash(self, password: str) -> str:
        with self.lock:
            self.inside += 1
            self.peak = max(self.peak, self.inside)
        try:
            stored: str = self.real.hash(password)
            return stored
        finally:
            with self.lock:
                self.inside -= 1


def test_no_more_hashes_run_at_once_than_the_bound():
    # Each hash holds 19 MiB: the bound is what keeps a burst of sign-ups within the
    # pod's memory limit. argon2 releases the GIL, so unbounded threads would overlap.
    passwords = Passwords(memory_kib=19456, time_cost=2, parallelism=1, max_concurrent=2)
    counting = CountingHasher(passwords._hasher)
    passwords._hasher = counting  # type: ignore[assignment]
    with ThreadPoolExecutor(max_workers=8) as pool:
        hashes = list(pool.map(passwords.hash, ["Str0ng!Passw0rd"] * 16))
    assert len(set(hashes)) == 16
    assert 1 <= counting.peak <= 2


RESIDENT_AFTER_A_BURST = """
from concurrent.futures import ThreadPoolExecutor
from cnop_user.passwords import Passwords
passwords = Passwords(memory_kib=19456, time_cost=2, parallelism=1, max_concurrent=4)
with ThreadPoolExecutor(max_workers=40) as pool:
    list(pool.map(passwords.hash, ["Str0ng!Passw0rd"] * 120))
status = open("/proc/self/status").read()
print(int(status.split("VmRSS:")[1].split()[0]) // 1024)
"""


def test_a_burst_of_hashes_gives_its_memory_back():
    # In a process of its own: the resident size is the whole process's.
    done = subprocess.run(
        [sys.executable, "-c", RESIDENT_AFTER_A_BURST],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    resident_mib = int(done.stdout.strip())
    # 40 threads × 19 MiB kept in glibc arenas would be ~450 MiB; given back, ~20 MiB
    # plus the interpreter. The pod's memory limit is 256 MiB.
    assert resident_mib < 128
