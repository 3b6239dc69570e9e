"""Deploy histories shaped like the real exports (helm, Argo CD, Heroku, GitHub, deploy logs)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

T0 = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
SHAS = [f"{i:x}" * 40 for i in range(1, 10)]  # "1111…", "2222…", ...


def z(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_json(path: Path, obj: Any) -> Path:
    path.write_text(json.dumps(obj, indent=2))
    return path


def helm_history() -> list[dict[str, Any]]:
    def rev(n: int, minutes: int, status: str, desc: str, app: str) -> dict[str, Any]:
        # helm writes RFC 3339 with nanoseconds, in the offset of the machine that ran it
        local = (T0 + timedelta(minutes=minutes)).astimezone(timezone(timedelta(hours=1)))
        return {
            "revision": n,
            "updated": f"{local:%Y-%m-%dT%H:%M:%S}.123456789+01:00",
            "status": status,
            "chart": f"checkout-{app}",
            "app_version": app,
            "description": desc,
        }

    return [
        rev(1, -300, "superseded", "Install complete", "1.0.0"),
        rev(2, -200, "superseded", "Upgrade complete", "1.1.0"),
        rev(3, -100, "superseded", "Upgrade complete", "1.2.0"),
        rev(4, -50, "failed", 'Upgrade "checkout" failed: timed out waiting for the condition', "1.3.0"),
        rev(5, -40, "superseded", "Upgrade complete", "1.3.1"),
        rev(6, -20, "superseded", "Rollback to 3", "1.2.0"),
        rev(7, -5, "deployed", "Upgrade complete", "1.4.0"),
        rev(8, 0, "pending-upgrade", "Preparing upgrade", "1.5.0"),
    ]


def argocd_app() -> dict[str, Any]:
    src = {"repoURL": "https://github.com/acme/checkout.git", "path": "deploy/prod", "targetRevision": "HEAD"}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "checkout", "namespace": "argocd"},
        "spec": {"destination": {"namespace": "shop-prod", "server": "https://kubernetes.default.svc"}, "source": src},
        "status": {
            "history": [
                {"id": 10, "revision": SHAS[0], "deployStartedAt": z(T0 - timedelta(hours=3)), "deployedAt": z(T0 - timedelta(hours=3) + timedelta(seconds=40)), "source": src},
                {"id": 11, "revision": SHAS[1], "deployStartedAt": z(T0 - timedelta(hours=1)), "deployedAt": z(T0 - timedelta(minutes=59)), "source": src,
                 "initiatedBy": {"username": "alice"}},
                {"id": 12, "revision": SHAS[2], "deployedAt": z(T0 - timedelta(minutes=10)), "source": src, "initiatedBy": {"automated": True}},
            ],
            "operationState": {
                "phase": "Failed",
                "message": "one or more objects failed to apply",
                "startedAt": z(T0 - timedelta(minutes=2)),
                "finishedAt": z(T0 - timedelta(minutes=1)),
                "operation": {"sync": {"revision": SHAS[3]}, "initiatedBy": {"username": "bob"}},
                "syncResult": {"revision": SHAS[3]},
            },
        },
    }  # fmt: skip


def heroku_releases() -> list[dict[str, Any]]:
    def rel(v: int, minutes: int, desc: str, status: str = "succeeded", current: bool = False) -> dict[str, Any]:
        at = T0 + timedelta(minutes=minutes)
        return {
            "addon_plan_names": ["heroku-postgresql:standard-0"],
            "app": {"id": "01234567-89ab-cdef-0123-456789abcdef", "name": "checkout-prod"},
            "created_at": z(at),
            "description": desc,
            "status": status,
            "id": f"00000000-0000-0000-0000-{v:012d}",
            "slug": {"id": "01234567-89ab-cdef-0123-456789abcdef"},
            "updated_at": z(at + timedelta(seconds=30)),
            "user": {"email": "dana@example.com", "id": "01234567-89ab-cdef-0123-456789abcdef"},
            "version": v,
            "current": current,
            "output_stream_url": None,
        }

    return [
        rel(40, -240, "Deploy 1a2b3c4"),
        rel(41, -120, "Deploy 5d6e7f8"),
        rel(42, -60, "Deploy 9a8b7c6"),
        rel(43, -30, "Set FEATURE_X config vars"),
        rel(44, -10, "Rollback to v41"),
        rel(45, -2, "Deploy aaaabbb", status="failed"),
        rel(46, -1, "Deploy ccccddd", status="pending", current=True),
    ]


def github_deployments() -> list[dict[str, Any]]:
    def dep(i: int, minutes: int, env: str, statuses: list[tuple[str, int]] | None) -> dict[str, Any]:
        at = T0 + timedelta(minutes=minutes)
        d: dict[str, Any] = {
            "url": f"https://api.github.com/repos/acme/checkout/deployments/{i}",
            "id": i,
            "node_id": "MDEwOkRlcGxveW1lbnQx",
            "sha": SHAS[i % 9],
            "ref": f"v2.{i}.0",
            "task": "deploy",
            "payload": {},
            "original_environment": env,
            "environment": env,
            "description": f"Deploy request from hubot ({i})",
            "creator": {"login": "octocat", "id": 1},
            "created_at": z(at),
            "updated_at": z(at),
            "statuses_url": f"https://api.github.com/repos/acme/checkout/deployments/{i}/statuses",
            "repository_url": "https://api.github.com/repos/acme/checkout",
            "transient_environment": False,
            "production_environment": env == "production",
        }
        if statuses is not None:
            # the API lists statuses newest first
            d["statuses"] = [{"state": s, "created_at": z(at + timedelta(seconds=sec))} for s, sec in reversed(statuses)]
        return d

    return [
        dep(1, -180, "production", [("in_progress", 5), ("success", 60), ("inactive", 3600)]),
        dep(2, -90, "staging", [("success", 30)]),
        dep(3, -60, "production", [("queued", 1), ("in_progress", 10), ("failure", 90)]),
        dep(4, -30, "production", [("success", 45)]),
        dep(5, -5, "production", None),
    ]
