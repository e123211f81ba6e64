"""The content-hashed static names: what changes a name, and what is refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cnop_web.assets import AssetBundle

pytestmark = pytest.mark.unit

SHELL = '<link rel="stylesheet" href="/static/style.css"><script src="/static/app.js"></script>'


def _site(directory: Path, files: dict[str, str]) -> AssetBundle:
    defaults = {
        "index.html": SHELL,
        "offline.html": "<p>offline</p>",
        "icon.svg": "<svg/>",
        "style.css": "body{}",
        "app.js": 'import { el } from "./dom.js";',
        "dom.js": "export const el = 1;",
    }
    static = directory / "static"
    static.mkdir(exist_ok=True)
    for name, text in {**defaults, **files}.items():
        (static / name).write_text(text)
    worker = directory / "sw.js"
    worker.write_text("// worker")
    return AssetBundle(static, worker)


def test_a_change_in_an_imported_module_renames_its_importer(tmp_path):
    before = _site(tmp_path, {})
    after = _site(tmp_path, {"dom.js": "export const el = 2;"})
    assert after.public["dom.js"] != before.public["dom.js"]
    assert after.public["app.js"] != before.public["app.js"]  # its import line changed
    assert after.public["style.css"] == before.public["style.css"]
    assert after.version != before.version


def test_the_same_content_keeps_the_same_name(tmp_path):
    assert _site(tmp_path, {}).public == _site(tmp_path, {}).public


def test_the_shell_and_modules_name_only_hashed_files(tmp_path):
    bundle = _site(tmp_path, {})
    app = bundle.by_name[bundle.public["app.js"]].body.decode()
    assert f'from "./{bundle.public["dom.js"]}"' in app
    assert bundle.url("app.js").encode() in bundle.shell
    assert b'"/static/app.js"' not in bundle.shell


def test_the_worker_is_told_what_to_keep(tmp_path):
    bundle = _site(tmp_path, {})
    first = bundle.service_worker.decode().splitlines()[0]
    assert bundle.version in first
    for url in bundle.precache():
        assert f'"{url}"' in first
    assert "/offline" in bundle.precache()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"app.js": 'import { x } from "./missing.js";'}, "'missing.js', which does not exist"),
        ({"dom.js": 'import { a } from "./app.js";'}, "in a cycle"),
        ({"notes.txt": "x"}, "no media type known for '.txt'"),
    ],
)
def test_a_broken_static_directory_stops_the_server_with_a_reason(tmp_path, files, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        _site(tmp_path, files)
