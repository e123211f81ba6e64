"""Prometheus rules and Alertmanager configuration as code."""
