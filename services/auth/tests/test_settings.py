"""Security case 15 (unit level): the keyring is refused before anything serves."""

import json

import pytest
from pydantic import ValidationError

from cnop_auth.settings import AuthSettings, is_placeholder
from tests.helpers import settings_kwargs

pytestmark = pytest.mark.unit

GOOD = "Vq3xZ8rT1mK9pL2wE7yU4iO6aS5dF0gH"  # 32 bytes, random-looking


# What the runner passes from the catalogue: the settings have no default ports.
PORTS = settings_kwargs("auth")


def settings(**env):
    return AuthSettings(**PORTS, **env)


def test_good_keyring_loads(tmp_path):
    callers = tmp_path / "callers.json"
    callers.write_text("{}")
    loaded = settings(
        signing_keys=json.dumps({"k1": GOOD}),
        active_kid="k1",
        environment="production",
        identity_public_keys_file=callers,
    )
    assert loaded.keyring() == {"k1": GOOD}


def test_outside_development_the_callers_keys_are_required():
    # Without them auth would believe X-Source on the network's word alone.
    with pytest.raises(ValidationError, match="IDENTITY_PUBLIC_KEYS_FILE is required"):
        settings(signing_keys=json.dumps({"k1": GOOD}), active_kid="k1", environment="production")


def test_short_key_refused_everywhere():
    with pytest.raises(ValidationError, match="shorter than 32 bytes"):
        settings(signing_keys=json.dumps({"k1": GOOD[:31]}), active_kid="k1")


@pytest.mark.parametrize(
    "key", ["change-me-" + "x" * 30, "a" * 40, "example-signing-key-0123456789abc"]
)
def test_placeholder_refused_outside_development(key):
    assert is_placeholder(key)
    with pytest.raises(ValidationError, match="placeholder"):
        settings(signing_keys=json.dumps({"k1": key}), active_kid="k1", environment="staging")
    # Development may use a throwaway key.
    assert settings(signing_keys=json.dumps({"k1": key}), active_kid="k1").active_kid == "k1"


def test_keyring_is_required_and_active_kid_must_be_in_it(tmp_path):
    with pytest.raises(ValidationError, match="no keys"):
        settings(active_kid="k1")
    with pytest.raises(ValidationError, match="not in the keyring"):
        settings(signing_keys=json.dumps({"k1": GOOD}), active_kid="k2")
    ring = tmp_path / "keys.json"
    ring.write_text(json.dumps({"k1": GOOD, "k0": GOOD[::-1]}))
    assert settings(signing_keys_file=ring, active_kid="k1").keyring()["k0"] == GOOD[::-1]


@pytest.mark.parametrize("raw", ["not json", "[]", "{}", '{"k1": 5}'])
def test_malformed_keyring_refused(raw):
    with pytest.raises(ValidationError):
        settings(signing_keys=raw, active_kid="k1")


def test_key_material_is_never_in_the_error():
    with pytest.raises(ValidationError) as caught:
        settings(signing_keys=json.dumps({"k1": "Sh0rtButSecret!"}), active_kid="k1")
    assert "Sh0rtButSecret" not in str(caught.value)
