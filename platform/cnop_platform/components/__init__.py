"""Pulumi ComponentResources, one per file, named cnop:<area>:<Name>."""
