"""The auth service: the only holder of JWT signing keys.

Deliberately independent: it imports nothing from the shared plumbing package,
so no JWT logic or key material can leak into code the backends share.
"""

SERVICE = "auth"
