"""Deploy history from tool exports: helm, Argo CD, Heroku and GitHub deployments.

Each parser takes the parsed document (JSON or YAML), yields `Deploy` field dicts and counts
what it skipped; `deploys.py` bounds, merges and orders them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from incident.tools.deploy_values import (
    Counts,
    Row,
    items,
    looks_like_sha,
    parse_time,
    rollback_target,
    status,
    text,
)

# ---------------------------------------------------------------- whole-document formats


def helm_rows(doc: Any, counts: Counts, service: str | None) -> Iterator[Row]:
    for item in items(doc, counts):
        at = parse_time(item.get("updated"))
        rev = text(item.get("revision"))
        if at is None or rev is None:
            counts.skip(f"revision {rev or '?'}", "no revision or updated time")
            continue
        app_version, chart = text(item.get("app_version")), text(item.get("chart"))
        description = text(item.get("description"), 500)
        yield {
            "id": rev, "service": service, "version": app_version or chart, "started_at": at,
            "sha": app_version if looks_like_sha(app_version) else None,
            "status": status(item.get("status")), "description": description,
            "rollback_of": rollback_target(description), "source": "helm",
        }  # fmt: skip


def _argocd_apps(doc: Any) -> list[tuple[dict[str, Any], list[Any]]]:
    """(application, history) pairs from an Application, a list of them, or a bare history list."""
    if isinstance(doc, dict) and isinstance(doc.get("items"), list):
        return [p for item in doc["items"] for p in _argocd_apps(item)]
    if isinstance(doc, dict) and isinstance(doc.get("status"), dict):
        return [(doc, doc["status"].get("history") or [])]
    if isinstance(doc, dict) and isinstance(doc.get("history"), list):
        return [({}, doc["history"])]
    return [({}, doc if isinstance(doc, list) else [doc])]


def argocd_rows(doc: Any, counts: Counts, service: str | None) -> Iterator[Row]:
    for app, history in _argocd_apps(doc):
        name = text((app.get("metadata") or {}).get("name")) or service
        env = text(((app.get("spec") or {}).get("destination") or {}).get("namespace"))
        for item in items(history, counts):
            yield from _argocd_entry(item, counts, name, env)
        op = (app.get("status") or {}).get("operationState") or {}
        phase = status(op.get("phase"))
        if phase in ("failed", "in_progress") and parse_time(op.get("startedAt")):
            sync = (op.get("syncResult") or {}).get("revision") or (
                (op.get("operation") or {}).get("sync") or {}
            ).get("revision")
            yield {
                "id": f"sync@{text(op.get('startedAt'))}", "service": name, "environment": env,
                "sha": text(sync) if looks_like_sha(text(sync)) else None, "version": None if looks_like_sha(text(sync)) else text(sync),
                "started_at": parse_time(op.get("startedAt")), "finished_at": parse_time(op.get("finishedAt")),
                "status": phase, "actor": text(((op.get("operation") or {}).get("initiatedBy") or {}).get("username")),
                "description": text(op.get("message"), 500), "source": "argocd",
            }  # fmt: skip


def _argocd_entry(item: dict[str, Any], counts: Counts, name: str | None, env: str | None) -> Iterator[Row]:
    started = parse_time(item.get("deployStartedAt")) or parse_time(item.get("deployedAt"))
    if started is None:
        counts.skip(f"history id {text(item.get('id')) or '?'}", "no deployedAt")
        return
    revisions = item.get("revisions") if isinstance(item.get("revisions"), list) else []
    revision = text(item.get("revision")) or (text(revisions[0]) if revisions else None)
    sources = item.get("sources") if isinstance(item.get("sources"), list) else [None]
    source = item.get("source") or (sources[0] if sources else None)
    if not isinstance(source, dict):
        source = {}
    by = item.get("initiatedBy") or {}
    actor = text(by.get("username")) if isinstance(by, dict) else None
    if actor is None and isinstance(by, dict) and by.get("automated"):
        actor = "automated sync"
    where = " ".join(
        x for x in (text(source.get("repoURL")), text(source.get("path")) or text(source.get("chart"))) if x
    )
    yield {
        "id": text(item.get("id")) or revision or "?", "service": name, "environment": env,
        "sha": revision if looks_like_sha(revision) else None,
        "version": (text(source.get("targetRevision")) if source.get("chart") else None) or (None if looks_like_sha(revision) else revision),
        "started_at": started, "finished_at": parse_time(item.get("deployedAt")), "status": "succeeded",
        "actor": actor, "description": where or None, "source": "argocd",
    }  # fmt: skip


_HEROKU_DEPLOY = re.compile(r"\bdeploy\s+([0-9a-f]{7,40})\b", re.I)


def heroku_rows(doc: Any, counts: Counts, service: str | None) -> Iterator[Row]:
    for item in items(doc, counts):
        at, version = parse_time(item.get("created_at")), text(item.get("version"))
        if at is None or version is None:
            counts.skip(f"release {version or '?'}", "no version or created_at")
            continue
        description = text(item.get("description"), 500)
        m = _HEROKU_DEPLOY.search(description or "")
        st = status(item.get("status") or "succeeded")
        yield {
            "id": version.lstrip("v"), "service": text((item.get("app") or {}).get("name")) or service,
            "version": f"v{version.lstrip('v')}", "sha": m.group(1) if m else None, "started_at": at,
            "finished_at": parse_time(item.get("updated_at")) if st in ("succeeded", "failed") else None,
            "status": st, "actor": text(item.get("user")), "description": description,
            "rollback_of": rollback_target(description), "source": "heroku",
        }  # fmt: skip


def _github_status(item: dict[str, Any]) -> tuple[str, datetime | None]:
    statuses = [s for s in item.get("statuses") or [] if isinstance(s, dict)]
    if statuses:
        dated = sorted(
            statuses, key=lambda s: parse_time(s.get("created_at")) or datetime.min.replace(tzinfo=UTC)
        )
        # `inactive` (superseded later) is the latest state of a deploy that worked; it finished
        # at its first terminal state.
        done = [
            parse_time(s.get("created_at"))
            for s in dated
            if status(s.get("state")) in ("succeeded", "failed")
        ]
        return status(dated[-1].get("state")), done[0] if done else None
    for key in ("latest_status", "latestStatus", "status", "state"):
        v = item.get(key)
        if isinstance(v, dict):
            v = v.get("state")
        if v:
            return status(v), None
    return "unknown", None


def github_rows(doc: Any, counts: Counts, service: str | None) -> Iterator[Row]:
    for item in items(doc, counts):
        at = parse_time(item.get("created_at"))
        if at is None or item.get("id") is None:
            counts.skip(f"deployment {text(item.get('id')) or '?'}", "no id or created_at")
            continue
        payload = item["payload"] if isinstance(item.get("payload"), dict) else {}
        repo_url = text(item.get("repository_url")) or ""
        sha, ref = text(item.get("sha")), text(item.get("ref"))
        st, finished = _github_status(item)
        yield {
            "id": text(item.get("id")), "service": text(payload.get("service") or payload.get("app")) or service or (repo_url.rsplit("/", 1)[-1] or None),
            "environment": text(item.get("environment")), "version": ref if ref and ref != sha else None,
            "sha": sha if looks_like_sha(sha) else None, "started_at": at, "finished_at": finished, "status": st,
            "actor": text(item.get("creator")), "description": text(item.get("description"), 500), "source": "github",
        }  # fmt: skip
