"""The order a first `pulumi up` creates things in, and `pulumi destroy` removes them.

Read off the program as a real `pulumi up` of each AWS stack declares it (the app
layer is Argo CD's), from every resource's recorded options. The engine creates a
resource only after what it waits for, and destroys in the reverse order
(pulumi/pulumi: pkg/resource/graph/dependency_graph.go), where a resource waits for:
- everything in its `depends_on`; on a component, each of the component's children
  (sdk/python/lib/pulumi/resource.py, `_resolve_depends_on`'s expansion of
  components to their children);
- its provider, whose own `depends_on` it therefore waits for too;
- its parent: the SDK registers a resource only once its parent's URN is known
  (sdk/python/lib/pulumi/runtime/resource.py, prepare_resource), which for a
  component is after the component's own `depends_on`; the engine deletes
  children before their parent (dependency_graph.go, DependingOn).
Dependencies through inputs (an Output of another resource) also order creation,
but the properties proven here are all stated as explicit options, so they hold
whatever a refactoring does to the inputs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest

from cnop_catalogue import IMAGES
from cnop_platform import deploy
from cnop_platform.components import registry
from cnop_platform.render import run

pytestmark = pytest.mark.unit
AWS = ["staging", "prod"]
LB_CONTROLLER = ("kubernetes:helm.sh/v3:Release", "aws-load-balancer-controller")
# Which Helm release brings the CRDs of an API group (the pinned charts).
CRD_RELEASES = {
    "argoproj.io": "argo-cd",
    "monitoring.coreos.com": "kube-prometheus-stack",
}


@dataclass
class Node:
    """One declared resource, as the engine sees its ordering options."""

    key: tuple[str, str]
    opts: pulumi.ResourceOptions
    custom: bool
    parent: int | None = None
    children: list[int] = field(default_factory=list)


@contextmanager
def recording() -> Iterator[dict[int, Node]]:
    """Every resource the program declares (components too), by object identity."""
    nodes: dict[int, Node] = {}
    original = pulumi.Resource.__init__

    def record(  # noqa: PLR0917 - the signature it stands in for
        self: Any,
        t: str,
        name: str,
        custom: bool,
        props: Any = None,
        opts: Any = None,
        *rest: Any,
        **kwargs: Any,
    ) -> None:
        opts = opts or pulumi.ResourceOptions()
        parent = id(opts.parent) if opts.parent is not None else None
        nodes[id(self)] = Node((t, name), opts, custom, parent)
        if parent in nodes:
            nodes[parent].children.append(id(self))
        original(self, t, name, custom, props, opts, *rest, **kwargs)

    pulumi.Resource.__init__ = record  # type: ignore[method-assign]
    try:
        yield nodes
    finally:
        pulumi.Resource.__init__ = original  # type: ignore[method-assign]


def _descendants(nodes: dict[int, Node], ident: int) -> Iterator[int]:
    for child in nodes[ident].children:
        yield child
        yield from _descendants(nodes, child)


def _provider(nodes: dict[int, Node], ident: int) -> int | None:
    """The provider a resource is created with: its own option, else its ancestors'."""
    package = nodes[ident].key[0].split(":")[0]
    current: int | None = ident
    while current is not None:
        opts = nodes[current].opts
        if opts.provider is not None and nodes[id(opts.provider)].key[0].endswith(package):
            return id(opts.provider)
        providers = opts.providers
        if isinstance(providers, dict) and package in providers:
            return id(providers[package])
        current = nodes[current].parent
    return None


def waits_for(nodes: dict[int, Node]) -> dict[int, set[int]]:
    """What each resource waits for directly."""
    edges: dict[int, set[int]] = {}
    for ident, node in nodes.items():
        direct: set[int] = set()
        depends = node.opts.depends_on or []
        for dependency in depends if isinstance(depends, list) else [depends]:
            direct.add(id(dependency))
            direct.update(_descendants(nodes, id(dependency)))
        provider = _provider(nodes, ident)
        if provider is not None and provider != ident:
            direct.add(provider)
        if node.parent in nodes:
            direct.add(node.parent)
        edges[ident] = direct
    return edges


def _closure(edges: dict[int, set[int]], start: int) -> set[int]:
    seen: set[int] = set()
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@dataclass
class Graph:
    """The resources of one stack and the transitive 'waits for' relation."""

    nodes: dict[int, Node]
    before: dict[int, set[int]]  # resource → everything created before it

    def find(self, typ: str, name: str | None = None) -> list[int]:
        return [i for i, n in self.nodes.items() if n.key[0] == typ and name in (None, n.key[1])]

    def one(self, typ: str, name: str) -> int:
        (found,) = self.find(typ, name)
        return found

    def created_after(self, later: int, earlier: int) -> bool:
        return earlier in self.before[later]

    def destroy_order(self) -> list[int]:
        """Kahn's sort of the reverse graph: what depends on a thing is destroyed first."""
        dependents: dict[int, set[int]] = {i: set() for i in self.nodes}
        for ident, deps in waits_for(self.nodes).items():
            for dep in deps:
                dependents[dep].add(ident)
        order, ready = [], [i for i, d in dependents.items() if not d]
        remaining = {i: set(d) for i, d in dependents.items()}
        direct = waits_for(self.nodes)
        while ready:
            ident = ready.pop()
            order.append(ident)
            for dep in direct[ident]:
                remaining[dep].discard(ident)
                if not remaining[dep] and dep not in order and dep not in ready:
                    ready.append(dep)
        assert len(order) == len(self.nodes), "the dependency graph has a cycle"
        return order


@pytest.fixture(scope="module")
def graphs() -> dict[str, Graph]:
    found = {}
    for stack in AWS:
        with recording() as nodes:
            run(stack, apps=False)
        edges = waits_for(nodes)
        found[stack] = Graph(dict(nodes), {i: _closure(edges, i) for i in nodes})
    return found


@pytest.mark.parametrize("stack", AWS)
def test_what_makes_load_balancers_waits_for_the_controller_and_goes_before_it(graphs, stack):
    """aws-load-balancer-controller chart 1.13.4 (aws/eks-charts, templates/webhook.yaml):
    its webhooks for Ingresses and TargetGroupBindings fail closed without a ready
    controller pod; on destroy only a running controller deletes the load balancers
    and security groups it made (else they are orphaned and the VPC cannot go)."""
    graph = graphs[stack]
    controller = graph.one(*LB_CONTROLLER)
    fronts = [
        *graph.find("kubernetes:core/v1:Service"),
        *graph.find("kubernetes:networking.k8s.io/v1:Ingress"),
        *graph.find("kubernetes:argoproj.io/v1alpha1:Application"),  # it syncs Services
    ]
    assert len(fronts) >= 2
    order = graph.destroy_order()
    for front in fronts:
        assert graph.created_after(front, controller), graph.nodes[front].key
        assert order.index(front) < order.index(controller), graph.nodes[front].key
    # The controller itself goes before the nodes it runs on and the VPC.
    for typ in ("aws:eks/nodeGroup:NodeGroup", "aws:ec2/vpc:Vpc"):
        (infrastructure,) = graph.find(typ)
        assert order.index(controller) < order.index(infrastructure)


@pytest.mark.parametrize("stack", AWS)
def test_custom_resources_wait_for_the_release_that_brings_their_crd(graphs, stack):
    graph = graphs[stack]
    custom = [
        i for i, n in graph.nodes.items() if n.key[0].split(":")[1].split("/")[0] in CRD_RELEASES
    ]
    assert custom, "no custom resources declared"
    for ident in custom:
        group = graph.nodes[ident].key[0].split(":")[1].split("/")[0]
        release = graph.one("kubernetes:helm.sh/v3:Release", CRD_RELEASES[group])
        assert graph.created_after(ident, release), graph.nodes[ident].key


@pytest.mark.parametrize("stack", AWS)
def test_the_application_comes_after_its_images_repositories_and_what_pods_read(graphs, stack):
    graph = graphs[stack]
    (application,) = graph.find("kubernetes:argoproj.io/v1alpha1:Application")
    needed = [
        *graph.find("aws:ecr/repository:Repository"),
        *[  # the services' own (the controllers' and Loki's: the next test)
            i
            for i in graph.find("aws:eks/podIdentityAssociation:PodIdentityAssociation")
            if graph.nodes[i].key[1].endswith("-dynamodb")
        ],
        *graph.find("kubernetes:core/v1:Secret"),
        *graph.find("kubernetes:core/v1:ConfigMap", "cnop-edge"),
    ]
    assert len(graph.find("aws:ecr/repository:Repository")) >= 6
    for ident in needed:
        assert graph.created_after(application, ident), graph.nodes[ident].key


@pytest.mark.parametrize("stack", AWS)
def test_the_edge_is_made_once_the_app_layer_behind_it_is_healthy(graphs, stack):
    """The NLB Service's endpoints are gateway pods and the Ingress's backend is the web
    Service: both exist only once Argo CD has synced (the Application's await)."""
    graph = graphs[stack]
    (application,) = graph.find("kubernetes:argoproj.io/v1alpha1:Application")
    edge = [
        *graph.find("kubernetes:core/v1:Service", "gateway-public"),
        *graph.find("kubernetes:networking.k8s.io/v1:Ingress"),
        *graph.find("aws:cloudfront/distribution:Distribution"),
    ]
    assert edge
    for ident in edge:
        assert graph.created_after(ident, application), graph.nodes[ident].key
    # The settings the gateway pods read are not held back with it.
    (settings,) = graph.find("kubernetes:core/v1:ConfigMap", "cnop-edge")
    assert not graph.created_after(settings, application)


@pytest.mark.parametrize("stack", AWS)
def test_controllers_are_installed_after_their_pod_identity(graphs, stack):
    """EKS injects Pod Identity credentials only into pods admitted once the association
    exists (docs: pod-id-association); a controller pod started before it runs with none."""
    graph = graphs[stack]
    for association, chart in (
        ("lb-controller", "aws-load-balancer-controller"),
        ("cluster-autoscaler", "cluster-autoscaler"),
        ("loki", "loki"),
    ):
        needed = graph.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", association)
        release = graph.one("kubernetes:helm.sh/v3:Release", chart)
        assert graph.created_after(release, needed), chart


@pytest.mark.parametrize("stack", AWS)
def test_the_deploys_first_target_is_the_registry_with_every_repository(graphs, stack):
    """`make deploy` first runs `pulumi up --target <the Registry's URN>`; targeting a
    component takes its children along (pulumi/pulumi#7605). The URN deploy.py writes
    must be the one the engine gives it: top level, so its type is its own."""
    graph = graphs[stack]
    (component,) = graph.find(registry.TYPE, registry.NAME)
    parent = graph.nodes[component].parent
    assert parent is None or graph.nodes[parent].key[0] == "pulumi:pulumi:Stack"
    assert deploy.registry_urn(stack) == f"urn:pulumi:{stack}::cnop::{registry.TYPE}::cnop"
    repositories = graph.find("aws:ecr/repository:Repository")
    assert {graph.nodes[r].parent for r in repositories} == {component}
    assert len(repositories) == len(IMAGES)
