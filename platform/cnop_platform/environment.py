"""The container environment of every component, built once from the catalogue.

The local runner and the Pulumi program run the same services in different
places: loopback with a port offset, or pods behind cluster DNS. What differs
is a `Site`; which variable each component needs, and why, lives only here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cnop_catalogue import VERIFIERS, Component


@dataclass(frozen=True)
class Site:
    """Where the components run, as the environment needs to know it."""

    environment: str  # the services' ENVIRONMENT: development | staging | production
    host: str  # the address servers bind to
    port_offset: int  # added to every catalogue port (loopback copies side by side)
    peer_url: Callable[[str], str]  # a peer's base URL by component name
    trusted_networks: str  # who a backend believes identity headers from (CIDRs)
    trusted_proxies: str  # whose X-Forwarded-For the gateway believes (CIDRs)
    store: dict[str, str]  # store settings of the services that use it
    auth_keyring_file: str
    auth_active_kid: str
    otlp_endpoint: str | None = None
    cors_origins: str | None = None  # None: the gateway reads it from elsewhere
    cookie_secure: bool = False
    web_source_address: str | None = None  # the web UI's own loopback address
    web_trusted_proxies: str | None = None  # the load balancer in front of the web UI
    web_viewer_address_header: str | None = None  # the CDN's header naming the browser
    limits_store_url: str | None = None  # Redis of the gateways' shared limits
    # Signed identity assertions: each signer's private key file, the public keys file.
    identity_key_files: dict[str, str] | None = None
    identity_public_keys_file: str | None = None


def service_environment(component: Component, site: Site, uses_store: bool) -> dict[str, str]:
    """The settings one component reads from its environment."""
    env = {
        "ENVIRONMENT": site.environment,
        "HOST": site.host,
        "PORT": str(component.port + site.port_offset),
        "ADMIN_PORT": str(component.admin_port + site.port_offset),
        "TRUSTED_NETWORKS": site.trusted_networks,
    }
    env.update(_identity(component, site))
    if site.otlp_endpoint:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = site.otlp_endpoint
    for peer in component.peers:
        env[f"{peer.upper()}_URL"] = site.peer_url(peer)
    if uses_store:
        env.update(site.store)
    if component.name == "auth":
        env["SIGNING_KEYS_FILE"] = site.auth_keyring_file
        env["ACTIVE_KID"] = site.auth_active_kid
    if component.name == "web":
        if site.cookie_secure:
            env["COOKIE_SECURE"] = "true"
        if site.web_source_address:
            env["GATEWAY_SOURCE_ADDRESS"] = site.web_source_address
        if site.web_trusted_proxies:
            env["TRUSTED_PROXIES"] = site.web_trusted_proxies
        if site.web_viewer_address_header:
            env["VIEWER_ADDRESS_HEADER"] = site.web_viewer_address_header
    if component.public:
        # Only the web UI's pods (and on exposed stacks the load balancer, which
        # keeps the client's own address) reach the gateway; only the former
        # may speak for a browser in X-Forwarded-For.
        env["TRUSTED_PROXIES"] = site.trusted_proxies
        if site.cors_origins is not None:
            env["CORS_ORIGINS"] = site.cors_origins
        if site.limits_store_url is not None:
            env["LIMITS_STORE_URL"] = site.limits_store_url
    return env


def _identity(component: Component, site: Site) -> dict[str, str]:
    """Its own signing key if it calls our services; the public keys if it is called."""
    env = {}
    if site.identity_key_files and component.name in site.identity_key_files:
        env["IDENTITY_SIGNING_KEY_FILE"] = site.identity_key_files[component.name]
    if site.identity_public_keys_file and component.name in VERIFIERS:
        env["IDENTITY_PUBLIC_KEYS_FILE"] = site.identity_public_keys_file
        if site.limits_store_url is not None:
            # Every replica of a receiver claims the nonces it accepts there.
            env["NONCE_STORE_URL"] = site.limits_store_url
    return env
