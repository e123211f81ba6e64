"""Web UI settings (one pydantic-settings class, failing fast on bad input)."""

from __future__ import annotations

from decimal import Decimal
from ipaddress import ip_address, ip_network
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from cnop_common.forwarded import Network
from cnop_common.settings import ProcessSettings

# The largest single deposit: a rule of the user service's request model, not a
# setting there either (a test holds the two equal).
MAX_DEPOSIT = Decimal("1000000.00")


class WebSettings(ProcessSettings):
    """Everything the web UI reads from its environment."""

    # PORT and ADMIN_PORT (ProcessSettings) and GATEWAY_URL have no defaults: the
    # catalogue is the home of ports, and whoever starts the web UI passes them.
    gateway_url: str
    # Locally the web UI calls the gateway from its own loopback address, which
    # the gateway lists in TRUSTED_PROXIES: only then is our X-Forwarded-For
    # (the browser's address) believed, and no other local caller can spoof it.
    gateway_source_address: str | None = None
    gateway_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)

    # Over HTTPS the session cookie is `Secure` and `__Host-` prefixed.
    cookie_secure: bool = False
    # Proxies in front of us (an ALB Ingress): from them, the browser's address is
    # the nearest X-Forwarded-For hop that is not one of them. Empty: the peer is it.
    trusted_proxies: Annotated[tuple[Network, ...], NoDecode] = ()
    # Behind a CDN (CloudFront in front of the ALB), X-Forwarded-For's nearest
    # untrusted hop is a CDN edge, not the browser. The CDN names the browser in
    # this header (`cloudfront-viewer-address`); it is believed only from
    # TRUSTED_PROXIES, and the ALB there admits the CDN's addresses alone.
    viewer_address_header: str | None = Field(default=None, pattern=r"^[a-z0-9-]+$")

    # The limits the forms show beside themselves. The services enforce them; these
    # are their settings under the same names (set both where one is changed), and
    # a test holds the defaults equal to the services'.
    order_value_cap: Decimal = Field(default=Decimal("10000.00"), gt=0)
    daily_deposit_limit: Decimal = Field(default=Decimal("10000.00"), gt=0)
    daily_withdraw_limit: Decimal = Field(default=Decimal("5000.00"), gt=0)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(ip_network(part.strip()) for part in value.split(",") if part.strip())
        return value

    @field_validator("gateway_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("GATEWAY_URL must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("gateway_source_address")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        if value:
            ip_address(value)  # raises ValueError with the bad value
        return value or None

    @model_validator(mode="after")
    def _viewer_header_needs_proxies(self) -> WebSettings:
        if self.viewer_address_header and not self.trusted_proxies:
            raise ValueError("VIEWER_ADDRESS_HEADER needs TRUSTED_PROXIES (who may set it)")
        return self

    @model_validator(mode="after")
    def _secure_outside_development(self) -> WebSettings:
        # A session cookie sent over plain HTTP can be read off the wire.
        if self.environment != "development" and not self.cookie_secure:
            raise ValueError("COOKIE_SECURE must be true outside development")
        return self

    @property
    def cookie_name(self) -> str:
        """`__Host-` binds the cookie to this host and path /; browsers allow it only if Secure."""
        return "__Host-cnop_session" if self.cookie_secure else "cnop_session"
