"""`make screenshots` (tools/screenshots.py): the docs' pictures of the web UI come from a command.

The command runs here against the test platform, into a scratch folder: every
page at both widths, each PNG as wide as the screen it was taken on (a page
wider than a phone would make a wider picture). The committed index and files
are checked against the same list of pages.
"""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screenshots", REPO / "tools" / "screenshots.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _tool()


def _png_width(path: Path) -> int:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width: int = struct.unpack(">I", data[16:20])[0]
    return width


@pytest.mark.e2e
@pytest.mark.slow
def test_the_command_takes_every_page_at_both_widths(local_platform, tmp_path):
    taken = TOOL.take_all(local_platform.url("web"), tmp_path)
    expected = {f"{name}-{width}.png" for name, *_ in TOOL.PAGES for width in TOOL.WIDTHS}
    assert {path.name for path in taken} == expected
    for path in taken:
        assert _png_width(path) == int(path.stem.rsplit("-", 1)[1]), path


@pytest.mark.unit
def test_the_committed_screenshots_are_the_commands_own():
    assert (REPO / "docs" / "screenshots.md").read_text() == TOOL.index_text()
    for name, *_ in TOOL.PAGES:
        for width in TOOL.WIDTHS:
            path = REPO / "docs" / "screenshots" / f"{name}-{width}.png"
            assert _png_width(path) == width, path
