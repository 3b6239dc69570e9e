"""Naming deploy sources: format names as operators write them, and release tags as deploys.

Kept apart from `deploys.py` (reading and the tool) so that request building can check formats
without the reading machinery, and so each module reads in one sitting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from incident.errors import UsageError
from incident.models import Deploy
from incident.tools.deploy_formats import FORMATS

# Release tags as teams name them: v1.2.3, 1.2.3, release-2026-11-21. In a monorepo a service's
# own tags (checkout/v1.2.3, checkout-v1.2.3) are the ones that say it was released.
_RELEASE_TAGS = ("v[0-9]*", "[0-9]*", "release-*", "release/*", "rel-*")
_SERVICE_TAGS = ("{}/*", "{}-v[0-9]*", "{}-[0-9]*", "{}_v[0-9]*")


def deploys_from_tags(repo: Path, pattern: str | None = None, *, service: str | None = None) -> list[Deploy]:
    """Release tags as deploys (id and version = tag name), oldest first; the time is the tagger's
    date for an annotated tag and the commit's for a lightweight one. Status is unknown: a tag says
    what was released, not whether the rollout worked. Without `pattern`, the service's own tags if
    it has any, else the usual release tag names."""
    from incident.tools import git

    def tags_of(patterns: tuple[str, ...]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for p in patterns:
            try:
                found.update((t.name, t) for t in git.list_tags(repo, p, max_count=1000) if t.at is not None)
            except UsageError:  # a service name no tag pattern can hold
                continue
        return found

    found = {}
    if pattern is None and service:
        found = tags_of(tuple(p.format(service) for p in _SERVICE_TAGS))
    if not found:
        found = tags_of((pattern,) if pattern else _RELEASE_TAGS)
    out = [
        Deploy(id=t.name, service=service, version=t.name, sha=t.sha, started_at=t.at, description="release tag", source="git-tags")
        for t in found.values()
    ]
    return sorted(out, key=lambda d: d.started_at)[-1000:]


AUTO = ("auto", "detect")


def check_format(fmt: str | None) -> str | None:
    """A format name as the operator wrote it: None/auto/detect mean detect; unknown is refused."""
    if fmt is None or fmt.strip().lower() in AUTO:
        return None
    name = fmt.strip().lower()
    if name not in (*FORMATS, "git-tags"):
        raise UsageError(f"unknown deploy format {fmt!r}", f"use one of: {', '.join(FORMATS)}, git-tags (or auto to detect)")
    return name


def pair_formats(paths: list[Any], formats: list[str] | str | None) -> list[str | None]:
    """The format of each deploy source from a repeatable --deploys-format: not given, every file is
    detected; given once, it is every source's format; given once per source, the Nth names the
    Nth (auto = detect that one)."""
    given = [formats] if isinstance(formats, str) else list(formats or [])
    checked = [check_format(f) for f in given]
    if not checked:
        return [None] * len(paths)
    if len(checked) == 1:
        return checked * len(paths)
    if len(checked) != len(paths):
        raise UsageError(
            f"--deploys-format given {len(checked)} times for {len(paths)} deploy sources",
            "give it once (for every source) or once per source, in the same order (auto to detect one)",
        )
    return checked
