"""The local store's command line and install checks, and the restart policy, without servers."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from cnop_platform.local import dynamodb_local
from cnop_platform.local.ports import PLATFORMS
from cnop_platform.local.restarter import (
    BACKOFF_SECONDS,
    MAX_RESTARTS,
    WINDOW_SECONDS,
    exit_reason,
    restart_delay,
)
from cnop_platform.local.runner import TEST_STORE_HEAP_MB, LocalPlatform
from cnop_platform.local.supervision import Supervisor

pytestmark = pytest.mark.unit


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_the_store_listens_on_loopback_on_its_own_port_without_telemetry(tmp_path):
    platform = LocalPlatform(root=tmp_path, port_offset=PLATFORMS["make up"])
    argv = platform.command("store")
    assert _option(argv, "--host") == "127.0.0.1"
    # DynamoDB Local's default port (8000) is the user service's: always given.
    assert _option(argv, "-port") == str(platform.port("store"))
    assert "-disableTelemetry" in argv
    assert "-sharedDb" in argv  # one database whatever region or keys a client uses
    assert _option(argv, "-dbPath") == str(tmp_path / "data" / "store")
    assert (tmp_path / "data" / "store").is_dir()  # DynamoDB Local refuses a missing folder
    assert "-inMemory" not in argv


def test_a_test_platform_keeps_its_store_in_a_bounded_memory(tmp_path):
    argv = LocalPlatform(root=tmp_path, persistent_store=False).command("store")
    assert "-inMemory" in argv
    assert "-dbPath" not in argv
    assert f"-Xmx{TEST_STORE_HEAP_MB}m" in argv
    # Out of memory, the JVM ends (and is restarted) instead of answering errors.
    assert "-XX:+ExitOnOutOfMemoryError" in argv
    assert not (tmp_path / "data").exists()


def test_a_missing_install_is_named_with_the_command_that_fixes_it(tmp_path):
    with pytest.raises(dynamodb_local.StoreNotInstalledError, match="make store-runtime"):
        dynamodb_local.command("127.0.0.1", 4566, data_dir=None, max_heap_mb=64, cache=tmp_path)


def test_an_install_of_another_version_or_launcher_counts_as_missing(tmp_path):
    stamp = tmp_path / dynamodb_local.VERSION / "installed.json"
    stamp.parent.mkdir(parents=True)
    stamp.write_text(json.dumps({**dynamodb_local._expected_stamp(), "launcher": "old"}))
    assert not dynamodb_local.is_installed(tmp_path)
    stamp.write_text(json.dumps(dynamodb_local._expected_stamp()))
    assert dynamodb_local.is_installed(tmp_path)


def test_integrity_is_npms_sha512_form(tmp_path):
    tarball = tmp_path / "p.tgz"
    tarball.write_bytes(b"package bytes")
    digest = base64.b64encode(hashlib.sha512(b"package bytes").digest()).decode()
    assert dynamodb_local.integrity_of(tarball) == f"sha512-{digest}"
    assert dynamodb_local.INTEGRITY.startswith("sha512-")


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_402"', 8),
    ],
)
def test_java_versions_are_read(output, major):
    assert dynamodb_local.java_major(output) == major


def test_an_unreadable_java_version_is_an_error():
    with pytest.raises(dynamodb_local.StoreNotInstalledError, match="cannot read"):
        dynamodb_local.java_major("command not found")


def test_restarts_back_off_then_stop_within_a_minute():
    now = 1_000.0
    recent: list[float] = []
    delays = []
    for _ in range(MAX_RESTARTS):
        delay = restart_delay(recent, now)
        assert delay is not None
        delays.append(delay)
        recent.append(now)
        now += 1.0
    assert delays == list(BACKOFF_SECONDS)
    assert delays[0] == 0.0  # the first restart is at once
    assert restart_delay(recent, now) is None  # one death too many within the window


def test_restarts_outside_the_window_no_longer_count():
    recent = [0.0] * MAX_RESTARTS
    assert restart_delay(recent, WINDOW_SECONDS - 0.1) is None
    assert restart_delay(recent, WINDOW_SECONDS) == 0.0


def test_the_exit_reason_is_supervisords_last_word_on_that_process(tmp_path):
    log = tmp_path / "supervisord.log"
    log.write_text(
        "2026-12-05 09:58:02,932 WARN exited: store (terminated by SIGKILL; not expected)\n"
        "2026-12-05 09:58:03,000 WARN exited: storefront (exit status 1; not expected)\n"
        "2026-12-05 09:59:00,000 WARN exited: user (exit status 3; not expected)\n"
    )
    assert exit_reason(log, "store") == "terminated by SIGKILL; not expected"
    assert exit_reason(log, "user") == "exit status 3; not expected"
    assert exit_reason(log, "gateway") == "unknown"
    assert exit_reason(tmp_path / "missing.log", "store") == "unknown"


def test_a_root_too_long_for_a_unix_socket_is_refused(tmp_path):
    with pytest.raises(ValueError, match="too long for a Unix socket"):
        Supervisor(tmp_path / ("x" * 120))


def test_config_values_survive_supervisords_percent_expansion(tmp_path):
    root = tmp_path / "100%"
    keeper = Supervisor(root)
    text = keeper._config_text([])
    assert "file=" + str(keeper.socket).replace("%", "%%") in text
    assert "100%/" not in text  # every % doubled
