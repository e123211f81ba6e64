"""Field rules of api.md for accounts: usernames, passwords, names, phones, birth dates."""

from __future__ import annotations

import re
from datetime import date

USERNAME = re.compile(r"^[A-Za-z0-9_]{6,30}$")
PASSWORD_SPECIALS = "!@#$%^&*()-_=+"  # noqa: S105 - the allowed symbols, not a secret
NAME = re.compile(r"^[^\W\d_]+(?:[ '\-]+[^\W\d_]+)*$")
PHONE_PUNCTUATION = re.compile(r"[\s().+\-/]")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
# Markup and script vectors rejected in every text field (the UI renders them).
MARKUP = re.compile(
    r"<\s*/?\s*(script|iframe|object|embed|svg|img|style|link|meta|form|frame|base)\b"
    r"|javascript\s*:|vbscript\s*:|data\s*:\s*text/html|\bon[a-z]+\s*=",
    re.IGNORECASE,
)


def check_username(value: str) -> str:
    """6–30 letters, digits or underscores; stored lower-case."""
    if not USERNAME.fullmatch(value):
        raise ValueError("username must be 6-30 characters: letters, digits or underscore")
    return value.lower()


def check_password(value: str) -> str:
    """12–128 characters with an upper, a lower, a digit and one of !@#$%^&*()-_=+."""
    if not 12 <= len(value) <= 128:
        raise ValueError("password must be 12-128 characters")
    missing = [
        label
        for label, present in (
            ("an upper-case letter", any(c.isupper() for c in value)),
            ("a lower-case letter", any(c.islower() for c in value)),
            ("a digit", any(c.isdigit() for c in value)),
            (f"one of {PASSWORD_SPECIALS}", any(c in PASSWORD_SPECIALS for c in value)),
        )
        if not present
    ]
    if missing:
        raise ValueError("password must contain " + ", ".join(missing))
    return value


def check_name(value: str) -> str:
    """1–50 letters, spaces, apostrophes and hyphens."""
    value = value.strip()
    if not 1 <= len(value) <= 50 or not NAME.fullmatch(value):
        raise ValueError("must be 1-50 letters, spaces, apostrophes or hyphens")
    return value


def check_phone(value: str) -> str:
    """10–15 digits once punctuation is removed; stored as digits only."""
    digits = PHONE_PUNCTUATION.sub("", value)
    if not digits.isdigit() or not 10 <= len(digits) <= 15:
        raise ValueError("phone must have 10-15 digits")
    return digits


def iso_date_text(value: object) -> object:
    """Only a date written YYYY-MM-DD, as api.md says: no number (0 was 1970-01-01),
    no timestamp, no other spelling that a lax parser would turn into a date."""
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


def check_birth_date(value: date, today: date | None = None) -> date:
    """A date of birth giving an age from 13 to 120."""
    today = today or date.today()
    age = today.year - value.year - ((today.month, today.day) < (value.month, value.day))
    if not 13 <= age <= 120:
        raise ValueError("age must be between 13 and 120")
    return value


def reject_markup(data: object) -> object:
    """Refuse markup in any string field of a request body."""
    if isinstance(data, dict):
        for field, value in data.items():
            if isinstance(value, str) and MARKUP.search(value):
                raise ValueError(f"{field} must not contain markup or script")
    return data
