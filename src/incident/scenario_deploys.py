"""Deploy histories for generated scenarios, in the shapes the real sources produce.

Each writer mimics what an operator would save from the tool itself (`helm history -o json`,
the Argo CD Application's `.status.history`, Heroku's releases API, GitHub's deployments API)
or the canonical JSON Lines / CSV deploy log.
"""

from __future__ import annotations

import csv
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from incident.clock import iso


@dataclass(frozen=True)
class DeployRow:
    id: str
    service: str
    at: datetime
    status: str = "succeeded"  # succeeded | failed
    version: str | None = None
    sha: str | None = None
    description: str = ""
    rollback_to: str | None = None
    actor: str = "deploy-bot"


def _stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def _canonical(rows: list[DeployRow]) -> list[dict[str, str]]:
    return [
        {
            "at": iso(r.at) or "",
            "service": r.service,
            "id": r.id,
            "version": r.version or "",
            "sha": r.sha or "",
            "status": r.status,
            "actor": r.actor,
            "description": r.description or (f"rollback to {r.rollback_to}" if r.rollback_to else "deploy"),
            "rollback_of": r.rollback_to or "",
        }
        for r in rows
    ]


def _helm(rows: list[DeployRow]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    last_ok = max((i for i, r in enumerate(rows) if r.status != "failed"), default=-1)
    for i, r in enumerate(rows):
        if r.status == "failed":
            status, desc = "failed", f'Upgrade "{r.service}" failed: {r.description or "timed out waiting for the condition"}'
        else:
            status = "deployed" if i == last_ok else "superseded"
            desc = f"Rollback to {r.rollback_to}" if r.rollback_to else ("Install complete" if i == 0 else "Upgrade complete")
        out.append({
            "revision": int(r.id),
            "updated": r.at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "status": status,
            "chart": f"{r.service}-{r.version or r.id}",
            "app_version": r.version or "",
            "description": desc,
        })
    return out


def _argocd(rows: list[DeployRow], service: str) -> dict[str, object]:
    # Argo CD's history only records syncs that happened; a failed sync leaves no entry.
    history = [
        {
            "id": int(r.id),
            "revision": r.sha or "",
            "deployStartedAt": iso(r.at - timedelta(seconds=40)),
            "deployedAt": iso(r.at),
            "source": {"repoURL": "https://git.example.com/shop.git", "path": f"deploy/{r.service}", "targetRevision": "main"},
            "initiatedBy": {"username": r.actor, "automated": r.actor == "deploy-bot"},
        }
        for r in rows
        if r.status != "failed"
    ]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": service, "namespace": "argocd"},
        "status": {"history": history, "sync": {"status": "Synced", "revision": history[-1]["revision"] if history else ""}},
    }


def _heroku(rows: list[DeployRow], service: str) -> list[dict[str, object]]:
    current = max((i for i, r in enumerate(rows) if r.status != "failed"), default=-1)
    return [
        {
            "addon_plan_names": [],
            "app": {"id": _stable_uuid("app", service), "name": service},
            "created_at": iso(r.at),
            "updated_at": iso(r.at + timedelta(seconds=30)),
            "description": f"Rollback to v{r.rollback_to}" if r.rollback_to else f"Deploy {(r.sha or '')[:7]}".strip(),
            "id": _stable_uuid("release", service, r.id),
            "slug": {"id": _stable_uuid("slug", service, r.sha or r.id)},
            "status": "failed" if r.status == "failed" else "succeeded",
            "user": {"email": f"{r.actor}@example.com", "id": _stable_uuid("user", r.actor)},
            "version": int(r.id),
            "current": i == current,
            "output_stream_url": None,
        }
        for i, r in enumerate(rows)
    ]


def _github(rows: list[DeployRow], service: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = [
        {
            "url": f"https://api.github.com/repos/example/shop/deployments/{r.id}",
            "id": int(r.id),
            "sha": r.sha or "",
            "ref": "main",
            "task": "deploy",
            "payload": {"service": r.service},
            "original_environment": "production",
            "environment": "production",
            "description": r.description or None,
            "creator": {"login": r.actor, "type": "Bot"},
            "created_at": iso(r.at),
            "updated_at": iso(r.at + timedelta(minutes=1)),
            "statuses": [{"state": "failure" if r.status == "failed" else "success", "created_at": iso(r.at + timedelta(minutes=1))}],
            "transient_environment": False,
            "production_environment": True,
        }
        for r in rows
    ]
    return out[::-1]  # the API lists the newest deployment first


def write_deploys(directory: Path, rows: list[DeployRow], fmt: str, *, service: str, now: datetime) -> Path:
    """Write `rows` (oldest first) in format `fmt` under `directory`; return the file."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = [r for r in rows if r.at <= now]
    if fmt == "jsonl":
        path = directory / "deploys.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in _canonical(rows)), encoding="utf-8")
    elif fmt == "csv":
        path = directory / "deploys.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(_canonical([rows[0]])[0]) if rows else ["at", "service", "id"])
            w.writeheader()
            w.writerows(_canonical(rows))
    elif fmt == "helm":
        path = directory / f"{service}.helm-history.json"
        path.write_text(json.dumps(_helm(rows), indent=1), encoding="utf-8")
    elif fmt == "argocd":
        path = directory / f"{service}.argocd-app.json"
        path.write_text(json.dumps(_argocd(rows, service), indent=1), encoding="utf-8")
    elif fmt == "heroku":
        path = directory / f"{service}.heroku-releases.json"
        path.write_text(json.dumps(_heroku(rows, service), indent=1), encoding="utf-8")
    elif fmt == "github":
        path = directory / f"{service}.github-deployments.json"
        path.write_text(json.dumps(_github(rows, service), indent=1), encoding="utf-8")
    else:
        raise ValueError(f"unknown deploy format {fmt!r}")
    return path
