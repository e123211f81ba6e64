"""Login: the user service checks the password, the auth service mints the token."""

from __future__ import annotations

from typing import Any

from cnop_common.errors import ApiError
from cnop_common.internal_http import InternalClient
from cnop_common.logging import get_logger
from cnop_user.accounts import Accounts
from cnop_user.models import LoginRequest

log = get_logger("security")

# One answer for an unknown user and for a wrong password, so that nobody can
# learn which usernames exist.
INVALID = ApiError(401, "INVALID_CREDENTIALS", "Invalid username or password.")


class Login:
    """Turns a username and password into a bearer token."""

    def __init__(self, accounts: Accounts, auth: InternalClient) -> None:
        self.accounts = accounts
        self.auth = auth

    def login(self, request: LoginRequest) -> dict[str, Any]:
        """The auth service's token for valid credentials; 401 INVALID_CREDENTIALS otherwise."""
        user = self.accounts.verify_credentials(request.username, request.password)
        if user is None:
            log.info("login_failed", attempted_user=request.username)
            raise ApiError(INVALID.status_code, INVALID.code, INVALID.detail)
        self.accounts.upgrade_hash_if_needed(user, request.password)
        response = self.auth.post(
            "/auth/tokens", {"username": user["username"], "role": user.get("role", "customer")}
        )
        if response.status_code != 201:
            log.error("token_not_issued", status=response.status_code)
            raise ApiError(
                503,
                "AUTH_UNAVAILABLE",
                "Could not issue a token; retry shortly.",
                {"Retry-After": "1"},
            )
        log.info("login_succeeded", user=user["username"])
        body: dict[str, Any] = response.json()
        return {
            "access_token": body["access_token"],
            "token_type": "bearer",
            "expires_in": body["expires_in"],
        }
