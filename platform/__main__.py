"""Pulumi entry point (`main: platform/` in Pulumi.yaml): `pulumi up --stack <env>`."""

from cnop_platform.config import StackConfig
from cnop_platform.program import build

config = StackConfig.from_pulumi()
# Where Argo CD applies the app layer, `pulumi up` declares everything else.
build(config, apps=config.apps_via == "pulumi")
