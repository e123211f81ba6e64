"""Whether Argo CD has rolled out exactly this deploy: the right commit, the new images.

Healthy alone is not enough: on a re-deploy the Application is already Healthy
before it has even seen the new digests, and `make verify` would then test the
old pods. An Application is rolled out for a deploy when (Argo CD's Application
status, argo-cd docs "Application Specification"):
- `status.sync.revision` is the commit the deploy expects and `status.sync.status`
  is Synced (the live objects match git at that commit, with our image overrides);
- the last sync operation `Succeeded`;
- every image the deploy pinned shows in `status.summary.images` (what the live
  workloads run) and no other image of our repositories does;
- `status.health.status` is Healthy (every Deployment rolled out).
"""

from __future__ import annotations

from typing import Any


def not_rolled_out(application: dict[str, Any], revision: str, images: list[str]) -> str | None:
    """Why the Application is not yet rolled out for this deploy, or None when it is."""
    status = application.get("status") or {}
    sync = status.get("sync") or {}
    if sync.get("revision") != revision:
        return f"at revision {sync.get('revision')!r}, waiting for {revision!r} (is it pushed?)"
    if sync.get("status") != "Synced":
        return f"sync status {sync.get('status')!r}"
    phase = (status.get("operationState") or {}).get("phase")
    if phase != "Succeeded":
        return f"last sync {phase!r}"
    images_why = _images_differ(set((status.get("summary") or {}).get("images") or []), images)
    if images_why:
        return images_why
    health = (status.get("health") or {}).get("status")
    return None if health == "Healthy" else f"health {health!r}"


def _repository(image: str) -> str:
    """`host/path` of `host/path[:tag][@digest]` (ECR hosts carry no port)."""
    return image.split("@", 1)[0].split(":", 1)[0]


def _images_differ(running: set[str], images: list[str]) -> str | None:
    missing = sorted(set(images) - running)
    if missing:
        return f"not yet running {', '.join(missing)}"
    ours = {_repository(image) for image in images}
    stale = sorted(i for i in running - set(images) if _repository(i) in ours)
    return f"still running {', '.join(stale)}" if stale else None
