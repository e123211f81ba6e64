"""The gateway: the platform's one public door."""

SERVICE = "gateway"
