"""The inventory service: the asset catalogue and its prices."""

SERVICE = "inventory"
