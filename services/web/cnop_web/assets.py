"""The static files under content-hashed names, built once when the server starts.

Each file in cnop_web/static is published as `<stem>.<hash>.<suffix>`, where the
hash covers the file's bytes after its own references were renamed: a change
to dom.js changes dom.js's name, so the import line in app.js changes, so
app.js gets a new name too. A name therefore stands for one content forever,
and browsers may keep it a year without asking again (`immutable`).

The shell (index.html), the offline page, the web app manifest and the service
worker are published under fixed names and revalidated on every visit: they
are the entry points that name the current hashed files.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
WORKER = Path(__file__).resolve().parent / "worker" / "sw.js"

# Files that keep their own names (entry points), and the hashed ones' media types.
ENTRY_POINTS = frozenset({"index.html", "offline.html"})
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
IMMUTABLE = "public, max-age=31536000, immutable"
HASH_LENGTH = 12  # hex digits: 48 bits, ample for a few dozen files

# A reference to another static file: an import specifier or a /static/ URL.
IMPORT = re.compile(r"""(?P<lead>from\s+["']\./)(?P<name>[\w.-]+)(?P<tail>["'])""")
STATIC_URL = re.compile(r"""(?P<lead>/static/)(?P<name>[\w.-]+)(?P<tail>)""")


@dataclass(frozen=True)
class Asset:
    """One published file: its public name, bytes and media type."""

    name: str
    body: bytes
    media_type: str


class AssetBundle:
    """Every static file under its hashed name, and the entry points that name them."""

    def __init__(self, directory: Path = STATIC, worker: Path = WORKER) -> None:
        self.directory = directory
        self.public: dict[str, str] = {}  # source name -> hashed name
        self.by_name: dict[str, Asset] = {}
        for path in sorted(directory.iterdir()):
            if path.is_file() and path.name not in ENTRY_POINTS:
                self._publish(path.name, ())
        self.shell = self._rewrite(self._read("index.html"))
        self.offline = self._rewrite(self._read("offline.html"))
        self.version = hashlib.sha256(
            self.shell + self.offline + "".join(sorted(self.public.values())).encode()
        ).hexdigest()[:HASH_LENGTH]
        self.manifest = self._manifest()
        self.service_worker = self._worker(worker.read_text(encoding="utf-8"))

    def url(self, source: str) -> str:
        """The public URL of a source file, e.g. app.js -> /static/app.1a2b3c4d5e6f.js."""
        return f"/static/{self.public[source]}"

    def precache(self) -> list[str]:
        """What the service worker keeps: every hashed file and the offline page."""
        return [*sorted(f"/static/{name}" for name in self.by_name), "/offline"]

    def _read(self, name: str) -> bytes:
        return (self.directory / name).read_bytes()

    def _publish(self, source: str, chain: tuple[str, ...]) -> str:
        if source in self.public:
            return self.public[source]
        if source in chain:
            raise ValueError(f"static files import each other in a cycle: {' -> '.join(chain)}")
        suffix = Path(source).suffix
        if suffix not in MEDIA_TYPES:
            raise ValueError(f"static/{source}: no media type known for {suffix!r} files")
        body = self._rewrite(self._read(source), (*chain, source))
        digest = hashlib.sha256(body).hexdigest()[:HASH_LENGTH]
        name = f"{Path(source).stem}.{digest}{suffix}"
        self.public[source] = name
        self.by_name[name] = Asset(name, body, MEDIA_TYPES[suffix])
        return name

    def _rewrite(self, body: bytes, chain: tuple[str, ...] = ()) -> bytes:
        text = body.decode("utf-8")
        for pattern in (IMPORT, STATIC_URL):
            text = pattern.sub(lambda match: self._renamed(match, chain), text)
        return text.encode("utf-8")

    def _renamed(self, match: re.Match[str], chain: tuple[str, ...]) -> str:
        source = match["name"]
        if not (self.directory / source).is_file():
            raise ValueError(f"a static file names {source!r}, which does not exist")
        return f"{match['lead']}{self._publish(source, chain)}{match['tail']}"

    def _manifest(self) -> bytes:
        # What an installed app needs: a name, a start page, a standalone window, an icon.
        manifest = {
            "name": "CNOP Trading",
            "short_name": "CNOP",
            "description": "Trade and follow a multi-asset portfolio.",
            "id": "/",
            "start_url": "/dashboard",
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#1f4e79",
            "icons": [
                {
                    "src": self.url("icon.svg"),
                    "sizes": "any",
                    "type": "image/svg+xml",
                    "purpose": "any",
                },
            ],
        }
        return json.dumps(manifest, indent=2).encode("utf-8")

    def _worker(self, template: str) -> bytes:
        # The worker learns what to keep from this line; its own text is static.
        build = {"version": self.version, "precache": self.precache(), "offline": "/offline"}
        return f"const BUILD = {json.dumps(build)};\n{template}".encode()
