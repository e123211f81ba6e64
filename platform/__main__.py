"""Pulumi entry point (`main: platform/` in Pulumi.yaml): `pulumi up --stack <env>`."""

import pulumi

from cnop_platform.config import StackConfig
from cnop_platform.program import build

config = StackConfig.from_pulumi()
# The renderer sets renderApps to write the app layer Argo CD syncs.
build(
    config, apps=config.apps_via == "pulumi" or bool(pulumi.Config("cnop").get_bool("renderApps"))
)
