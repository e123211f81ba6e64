"""The CrossGuard pack: `pulumi preview --stack prod --policy-pack policies/crossguard`."""

from pulumi_policy import PolicyPack

from cnop_policies.crossguard import POLICIES

PolicyPack(name="cnop-platform", policies=POLICIES)
