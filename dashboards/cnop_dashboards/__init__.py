"""Grafana dashboards as code (grafana-foundation-sdk, Grafana 11.6)."""
