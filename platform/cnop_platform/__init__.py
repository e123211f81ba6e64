"""The platform as code: the component catalogue, the local runner and (later) Pulumi components."""
