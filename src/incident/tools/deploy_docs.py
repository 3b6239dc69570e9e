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


def dig(obj: Any, *keys: str) -> Any:
    """obj[k1][k2]... where every level is a mapping; None as soon as one is not (any JSON may come)."""
    for k in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


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


def flux_rows(doc: Any, counts: Counts, service: str | None) -> Iterator[Row]:
    """Flux HelmRelease `.status.history` (helm-controller v2): one snapshot per helm revision."""
    releases = doc["items"] if isinstance(doc, dict) and isinstance(doc.get("items"), list) else doc
    for hr in releases if isinstance(releases, list) else [releases]:
        st = hr.get("status") if isinstance(hr, dict) else None
        history = st.get("history") if isinstance(st, dict) else None
        if not isinstance(history, list):
            counts.rows += 1
            counts.skip("document", "not a HelmRelease with status.history")
            continue
        meta = hr.get("metadata") if isinstance(hr.get("metadata"), dict) else {}
        for item in items(history, counts):
            at = parse_time(item.get("lastDeployed")) or parse_time(item.get("firstDeployed"))
            rev = text(item.get("version"))
            if at is None or rev is None:
                counts.skip(f"revision {rev or '?'}", "no version or lastDeployed")
                continue
            app, chart = text(item.get("appVersion")), text(item.get("chartVersion"))
            yield {
                "id": rev, "service": text(meta.get("name")) or text(item.get("name")) or service,
                "environment": text(item.get("namespace")) or text(meta.get("namespace")),
                "version": app or chart, "sha": app if looks_like_sha(app) else None, "started_at": at,
                "status": status(item.get("status")), "source": "flux",
                "description": " ".join(x for x in (text(item.get("chartName")), chart) if x) or None,
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
        name = text(dig(app, "metadata", "name")) or service
        env = text(dig(app, "spec", "destination", "namespace"))
        for item in items(history, counts):
            yield from _argocd_entry(item, counts, name, env)
        op = dig(app, "status", "operationState")
        op = op if isinstance(op, dict) else {}
        phase = status(op.get("phase"))
        if phase in ("failed", "in_progress") and parse_time(op.get("startedAt")):
            sync = dig(op, "syncResult", "revision") or dig(op, "operation", "sync", "revision")
            yield {
                "id": f"sync@{text(op.get('startedAt'))}", "service": name, "environment": env,
                "sha": text(sync) if looks_like_sha(text(sync)) else None, "version": None if looks_like_sha(text(sync)) else text(sync),
                "started_at": parse_time(op.get("startedAt")), "finished_at": parse_time(op.get("finishedAt")),
                "status": phase, "actor": text(dig(op, "operation", "initiatedBy", "username")),
                "description": text(op.get("message"), 500), "source": "argocd",
            }  # fmt: skip


def _argocd_entry(item: dict[str, Any], counts: Counts, name: str | None, env: str | None) -> Iterator[Row]:
    started = parse_time(item.get("deployStartedAt")) or parse_time(item.get("deployedAt"))
    if started is None:
        counts.skip(f"history id {text(item.get('id')) or '?'}", "no deployedAt")
        return
    # A multi-source Application (Argo CD 2.6+) records `sources` and `revisions` side by side:
    # typically a chart (revision = chart version) and a git repo of values (revision = a sha).
    revisions = [text(r) for r in item["revisions"]] if isinstance(item.get("revisions"), list) else []
    sources = [x if isinstance(x, dict) else {} for x in item.get("sources") or []] if isinstance(item.get("sources"), list) else []
    revision = text(item.get("revision")) or next((r for r in revisions if looks_like_sha(r)), None) or next(filter(None, revisions), None)
    source: dict[str, Any] = (
        item["source"] if isinstance(item.get("source"), dict) else next((x for x in sources if x.get("chart")), sources[0] if sources else {})
    )
    chart_version = None
    if source.get("chart"):
        chart_version = text(source.get("targetRevision"))
        if sources and source in sources and sources.index(source) < len(revisions):
            chart_version = revisions[sources.index(source)] or chart_version
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
        "version": chart_version or (None if looks_like_sha(revision) else revision),
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
            "id": version.lstrip("v"), "service": text(dig(item, "app", "name") or (item.get("app") if isinstance(item.get("app"), str) else None)) or service,
            "version": f"v{version.lstrip('v')}", "sha": m.group(1) if m else None, "started_at": at,
            "finished_at": parse_time(item.get("updated_at")) if st in ("succeeded", "failed") else None,
            "status": st, "actor": text(item.get("user")), "description": description,
            "rollback_of": rollback_target(description), "source": "heroku",
        }  # fmt: skip


def _github_status(item: dict[str, Any]) -> tuple[str, datetime | None]:
    statuses = [s for s in item.get("statuses") or [] if isinstance(s, dict)]
    if statuses:
        dated = sorted(statuses, key=lambda s: _status_time(s) or datetime.min.replace(tzinfo=UTC))
        # `inactive` (superseded later) is the latest state of a deploy that worked; it finished
        # at its first terminal state.
        done = [_status_time(s) for s in dated if status(s.get("state")) in ("succeeded", "failed")]
        return status(dated[-1].get("state")), done[0] if done else None
    for key in ("latest_status", "latestStatus", "status", "state"):
        v = item.get(key)
        if isinstance(v, dict):
            v = v.get("state")
        if v:
            return status(v), None
    return "unknown", None


def _status_time(s: dict[str, Any]) -> datetime | None:
    return parse_time(s.get("created_at") or s.get("createdAt"))


_DEPLOYMENT_URL = re.compile(r"/deployments/(\d+)/?$")


def _graphql_nodes(doc: Any) -> list[Any] | None:
    """`gh api graphql` output: data.repository.deployments.{nodes | edges[].node}, as REST-like items."""
    conn = doc
    for key in ("data", "repository", "deployments"):
        conn = conn.get(key) if isinstance(conn, dict) else None
    if not isinstance(conn, dict):
        return None
    nodes = conn.get("nodes") or [e.get("node") for e in conn.get("edges") or [] if isinstance(e, dict)]
    out = []
    for n in nodes:
        if not isinstance(n, dict):
            out.append(n)
            continue
        commit, ref = n.get("commit"), n.get("ref")
        statuses = (n.get("statuses") or {}).get("nodes") if isinstance(n.get("statuses"), dict) else None
        out.append({
            "id": n.get("databaseId") or n.get("id"), "created_at": n.get("createdAt"), "environment": n.get("environment"),
            "sha": n.get("commitOid") or (commit.get("oid") if isinstance(commit, dict) else None),
            "ref": ref.get("name") if isinstance(ref, dict) else ref, "creator": n.get("creator"),
            "description": n.get("description"), "payload": n.get("payload"), "statuses": statuses,
            "latest_status": n.get("latestStatus"), "state": n.get("state"),
        })  # fmt: skip
    return out


def _github_items(doc: Any) -> Any:
    """Deployments with their statuses: a REST list (statuses embedded, or listed among the
    deployments as `/deployments/{id}/statuses` returns them, e.g. from `cat`-ed exports) or GraphQL."""
    nodes = _graphql_nodes(doc)
    if nodes is not None:
        return nodes
    if not isinstance(doc, list):
        return doc
    deployments: list[Any] = []
    by_id: dict[str, list[dict[str, Any]]] = {}
    for item in doc:
        url = item.get("deployment_url") if isinstance(item, dict) else None
        m = _DEPLOYMENT_URL.search(url) if isinstance(url, str) and "sha" not in item else None
        if m:
            by_id.setdefault(m.group(1), []).append(item)
        else:
            deployments.append(item)
    if not by_id:
        return doc
    for d in deployments:
        extra = by_id.get(str(d.get("id"))) if isinstance(d, dict) else None
        if extra:
            d["statuses"] = [*(d.get("statuses") or []), *extra]
    return deployments


def github_rows(doc: Any, counts: Counts, service: str | None) -> Iterator[Row]:
    for item in items(_github_items(doc), counts):
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
