"""The asset id rule of api.md, shared by every service that takes one in a path."""

from __future__ import annotations

import re

from cnop_common.errors import ApiError

ASSET_ID = re.compile(r"^[A-Za-z0-9]{1,10}$")


def parse_asset_id(raw: str) -> str:
    """Trim, check 1–10 letters or digits (else 422), and upper-case."""
    value = raw.strip()
    if not ASSET_ID.fullmatch(value):
        raise ApiError(422, "VALIDATION_ERROR", "asset_id must be 1-10 letters or digits.")
    return value.upper()
