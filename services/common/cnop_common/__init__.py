"""Cross-cutting plumbing shared by the backend services.

Only plumbing lives here: settings base, logging, request/trace context,
metrics, error bodies, the trusted-source check and store access. No business
logic and nothing to do with JWTs (the auth service depends on none of this).
"""
