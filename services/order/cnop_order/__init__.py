"""The order service: market orders executed as one atomic trade."""

SERVICE = "order"
