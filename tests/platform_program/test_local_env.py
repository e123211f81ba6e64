"""`python -m cnop_platform.local env <component>`: one service alone, with make up's settings."""

from __future__ import annotations

import shlex

import pytest

from cnop_catalogue import BY_NAME
from cnop_platform.local.__main__ import main

pytestmark = pytest.mark.unit


def _exports(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, str]:
    assert main(list(argv)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(line.startswith("export ") for line in lines)
    pairs = (shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in lines)
    return dict(pairs)


def test_env_prints_the_catalogues_ports_and_the_peers_urls(capsys, tmp_path, monkeypatch):
    for key in ("PORT", "ADMIN_PORT", "INVENTORY_URL", "AUTH_URL"):
        monkeypatch.delenv(key, raising=False)
    exports = _exports(capsys, "env", "user", "--root", str(tmp_path))
    user = BY_NAME["user"]
    assert exports["PORT"] == str(user.port)
    assert exports["ADMIN_PORT"] == str(user.admin_port)
    for peer in user.peers:
        assert exports[f"{peer.upper()}_URL"] == f"http://127.0.0.1:{BY_NAME[peer].port}"


def test_env_refuses_what_is_not_a_component(capsys, tmp_path):
    with pytest.raises(SystemExit):
        main(["env", "nope", "--root", str(tmp_path)])
    assert "env needs a component" in capsys.readouterr().err
