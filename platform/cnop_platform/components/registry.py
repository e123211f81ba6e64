"""cnop:registry:Registry: this stack's ECR repositories, one per image.

A component of their own, apart from the cluster, because the deploy creates
them first (`pulumi up --target` this component's URN, which takes its children
along: pulumi/pulumi#7605), pushes the images, and only then runs the full
`pulumi up` whose Application pins the pushed digests (cnop_platform/deploy.py).
Tags are immutable: a tag once pushed always names the same digest.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from cnop_catalogue import IMAGES
from cnop_platform.config import StackConfig

TYPE = "cnop:registry:Registry"
NAME = "cnop"


def repository_name(config: StackConfig, image: str) -> str:
    """Each stack pushes to repositories of its own: staging and prod share an account."""
    return f"cnop-{config.environment}/{image}"


class Registry(pulumi.ComponentResource):
    """Repository URL by image."""

    urls: dict[str, pulumi.Output[str]]

    def __init__(self, config: StackConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, NAME, None, opts)
        self.urls = {
            image: aws.ecr.Repository(
                image,
                name=repository_name(config, image),
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                    scan_on_push=True
                ),
                image_tag_mutability="IMMUTABLE",
                # Where the stack's state is not protected, destroy takes the images
                # with it (ECR refuses to delete a repository that holds any).
                force_delete=not config.deletion_protection,
                opts=pulumi.ResourceOptions(parent=self),
            ).repository_url
            for image in IMAGES
        }
        self.register_outputs({"urls": self.urls})
