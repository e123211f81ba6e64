"""Time and identifiers, in the API's formats."""

from __future__ import annotations

from datetime import UTC, datetime

from ulid import ULID


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def iso_z(moment: datetime) -> str:
    """ISO-8601 UTC with a Z suffix and microseconds, sortable as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id(prefix: str) -> str:
    """A unique id that sorts by creation time (ULID), e.g. ord_01J...; 30 characters."""
    return f"{prefix}_{ULID()}"
