"""The CrossGuard pack: `pulumi preview --stack prod --policy-pack policies/crossguard`."""

from pulumi_policy import PolicyPack
from rules import POLICIES  # type: ignore[import-not-found]  # this folder's own module

PolicyPack(name="cnop-platform", policies=POLICIES)
