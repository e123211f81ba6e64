"""Password hashing (security case 24) and the timing-safe credential check."""

import time

import pytest
from argon2 import extract_parameters
from argon2.low_level import Type

from cnop_user.passwords import Passwords
from cnop_user.settings import UserSettings

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def passwords():
    settings = UserSettings()
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


def test_unknown_user_costs_a_full_verification(passwords):
    # No user: verification still runs against a dummy hash and fails.
    started = time.perf_counter()
    assert not passwords.verify(None, "not-a-real-password-0A!")
    unknown = time.perf_counter() - started
    stored = passwords.hash("Str0ng!Passw0rd")
    started = time.perf_counter()
    passwords.verify(stored, "wrong")
    known = time.perf_counter() - started
    # Both are one Argon2 verification; a skipped one would be ~1000x faster.
    assert unknown > known / 10


def test_settings_refuse_weaker_parameters(monkeypatch):
    monkeypatch.setenv("ARGON2_MEMORY_KIB", "1024")
    with pytest.raises(ValueError, match="argon2_memory_kib"):
        UserSettings()
