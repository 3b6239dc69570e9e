"""Rollbacks in a deploy history: which deploys a later rollback undid, and the last good deploy.

`Deploy.rollback_of` holds the id of the deploy a rollback *returns to* ("Rollback to 26" ->
"26"), which is what helm, Heroku and most deploy logs record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incident.models import Deploy


def _key(v: Any) -> str | None:
    return str(v).lstrip("v") if v else None


def _undo_after(good: list[int], undone: set[int], j: int) -> None:
    while good and good[-1] > j:
        undone.add(good.pop())


def mark_rolled_back(
    items: list[Any], *, get: Callable[[Any, str], Any], undone_key: str | None = None
) -> set[int]:
    """Indices of deploys a later rollback undid (`items` oldest first); dict rows get status rolled_back.

    A rollback is what the source says ("Rollback to N", rollback_of, rolled_back_from) or, failing
    that, a deploy of a sha/version that an earlier good deploy shipped. One pass per service and
    environment, so 20k deploys cost milliseconds.
    """
    undone: set[int] = set()
    groups: dict[tuple[Any, Any], list[int]] = {}
    for i, it in enumerate(items):
        groups.setdefault((get(it, "service"), get(it, "environment")), []).append(i)
    for idx in groups.values():
        good: list[int] = []  # deploys still standing, in order
        seen: dict[str, int] = {}  # id or version -> latest index
        code_at: dict[str, int] = {}  # sha or version -> latest good index

        for i in idx:
            it = items[i]
            code = get(it, "sha") or get(it, "version")
            target, gone = get(it, "rollback_of"), get(it, undone_key) if undone_key else None
            if gone:
                j = seen.get(_key(gone) or "")
                if j is not None and j in good:
                    good.remove(j)
                    undone.add(j)
            elif target:
                j = seen.get(_key(target) or "")
                _undo_after(good, undone, j if j is not None else (good[-2] if len(good) > 1 else -1))
            elif good and code and get(it, "status") != "failed":
                j = code_at.get(code)
                last = items[good[-1]]
                if (
                    j is not None
                    and j not in undone
                    and (get(last, "sha") or get(last, "version")) != code
                    and get(items[j], "id") != get(it, "id")
                ):
                    if isinstance(it, dict):
                        it["rollback_of"] = get(items[j], "id")
                    _undo_after(good, undone, j)
            for k in (_key(get(it, "id")), _key(get(it, "version"))):
                if k:
                    seen[k] = i
            if get(it, "status") in ("succeeded", "unknown"):
                good.append(i)
                if code:
                    code_at[code] = i
    for i in undone:
        if isinstance(items[i], dict) and items[i]["status"] in ("succeeded", "unknown"):
            items[i]["status"] = "rolled_back"
    return undone


def last_good_before(deploys: list[Deploy], suspect: Deploy) -> Deploy | None:
    """The last successful deploy of the suspect's service strictly before it: the rollback target.

    Failed and in-progress deploys are skipped, so is anything a later rollback undid, and so is a
    deploy of the very same sha (rolling back to it would change nothing).
    """
    ordered = sorted(deploys, key=lambda d: d.started_at)
    undone = mark_rolled_back(ordered, get=getattr)
    for i in range(len(ordered) - 1, -1, -1):
        d = ordered[i]
        if d.started_at >= suspect.started_at or d is suspect or d.service != suspect.service:
            continue
        if suspect.environment and d.environment and d.environment != suspect.environment:
            continue
        if d.status not in ("succeeded", "unknown") or i in undone:
            continue
        if (suspect.sha and d.sha == suspect.sha) or (
            not suspect.sha and suspect.version and d.version == suspect.version
        ):
            continue
        return d
    return None
