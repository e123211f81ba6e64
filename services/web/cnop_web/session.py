"""The browser session: the access token lives in an HttpOnly cookie, never in the page.

Scripts on the page (ours or injected) cannot read the token; the browser
sends it only to this origin (SameSite=Strict) and drops it when the token
expires (Max-Age = the token's lifetime).
"""

from __future__ import annotations

import json

from fastapi import Response
from prometheus_client import Counter

from cnop_common.errors import ApiError
from cnop_web.settings import WebSettings

SESSION_EVENTS = Counter(
    "web_sessions_total",
    "Browser sessions started (login), ended (logout) and dropped (token refused).",
    ["event"],
)


def read_login(body: bytes) -> tuple[str, int, bytes]:
    """A successful login's token and lifetime, and the body the page gets instead."""
    try:
        data = json.loads(body)
        token = str(data["access_token"])
        expires_in = int(data.get("expires_in", 3600))
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(502, "BAD_GATEWAY", "The login answer could not be read.") from exc
    page_body = json.dumps({"token_type": "cookie", "expires_in": expires_in}).encode()
    return token, expires_in, page_body


class Sessions:
    """Sets and clears the session cookie with the attributes the settings call for."""

    def __init__(self, settings: WebSettings) -> None:
        self.name = settings.cookie_name
        self.secure = settings.cookie_secure

    def start(self, response: Response, token: str, expires_in: int) -> None:
        """Put the token in the cookie, to be dropped when the token expires."""
        response.set_cookie(
            self.name,
            token,
            max_age=expires_in,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )
        SESSION_EVENTS.labels("started").inc()

    def end(self, response: Response, event: str) -> None:
        """Tell the browser to forget the cookie."""
        response.delete_cookie(
            self.name, path="/", secure=self.secure, httponly=True, samesite="strict"
        )
        SESSION_EVENTS.labels(event).inc()
