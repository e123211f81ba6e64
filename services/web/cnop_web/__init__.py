"""The web UI: the browser's only server, a same-origin front for the gateway."""

SERVICE = "web"
