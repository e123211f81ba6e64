"""The route table (routes.toml) and safe path matching.

A request path is matched only after it has been checked for every trick that
could make a listed prefix reach an unlisted path: dot segments, encoded
separators or dots, backslashes, empty segments, NUL. Such a path is simply
not found. Because of that check the raw path (what we forward) and the
decoded path (what we match) have the same segments.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

PREFIX = "/api/v1"
DEFAULT_TABLE = Path(__file__).with_name("routes.toml")

# Encoded '/', '\', '.', NUL and '%' itself (double encoding), in any case.
_ENCODED_TRICKS = re.compile(rb"%(2f|5c|2e|00|25)", re.IGNORECASE)
_PARAM = re.compile(r"\{([a-z_]+)\}")
# Path parameters: one segment of unreserved characters or percent-escapes.
_SEGMENT = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})+"

Auth = Literal["public", "protected"]
Handler = Literal["proxy", "login", "logout"]


@dataclass(frozen=True, slots=True)
class Route:
    """One row of the route table."""

    method: str
    path: str  # the template, e.g. /api/v1/orders/{order_id}; also the metrics label
    upstream: str
    auth: Auth
    handler: Handler
    pattern: re.Pattern[bytes]


@dataclass(frozen=True, slots=True)
class Matched:
    """A route that takes this request."""

    route: Route


@dataclass(frozen=True, slots=True)
class WrongMethod:
    """The path is known, the method is not: 405 with these allowed methods."""

    allowed: tuple[str, ...]


def _compile(template: str) -> re.Pattern[bytes]:
    regex = _PARAM.sub(f"({_SEGMENT})", re.escape(template).replace(r"\{", "{").replace(r"\}", "}"))
    return re.compile(f"^{regex}$".encode())


def is_safe_path(raw_path: bytes) -> bool:
    """False for any path that could be normalised into another one."""
    if not raw_path.startswith(b"/") or b"\\" in raw_path or b"//" in raw_path:
        return False
    if _ENCODED_TRICKS.search(raw_path):
        return False
    segments = raw_path.split(b"/")[1:]
    return not any(segment in (b".", b"..") for segment in segments)


class RouteTable:
    """All public routes, matched on the raw (undecoded) path."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = tuple(routes)
        seen = {(r.method, r.path) for r in routes}
        if len(seen) != len(routes):
            raise ValueError("duplicate route in the route table")

    @classmethod
    def load(cls, path: Path = DEFAULT_TABLE) -> RouteTable:
        """Read and check routes.toml."""
        rows = tomllib.loads(path.read_text(encoding="utf-8"))["route"]
        routes = []
        for row in rows:
            if not row["path"].startswith(PREFIX + "/"):
                raise ValueError(f"route {row['path']} is outside {PREFIX}")
            if row["auth"] not in ("public", "protected"):
                raise ValueError(f"route {row['path']}: auth must be public or protected")
            routes.append(
                Route(
                    method=row["method"].upper(),
                    path=row["path"],
                    upstream=row["upstream"],
                    auth=row["auth"],
                    handler=row.get("handler", "proxy"),
                    pattern=_compile(row["path"]),
                )
            )
        return cls(routes)

    def match(self, method: str, raw_path: bytes) -> Matched | WrongMethod | None:
        """The route for this request; WrongMethod for a known path; None if unknown or unsafe."""
        if not is_safe_path(raw_path):
            return None
        allowed = []
        for route in self.routes:
            if route.pattern.match(raw_path):
                if route.method == method:
                    return Matched(route)
                allowed.append(route.method)
        return WrongMethod(tuple(sorted(set(allowed)))) if allowed else None
