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


# ---------------------------------------------------------------- real-world exports, as printed
# Written from the tools' real output shapes: key order, nanosecond times in the offset of the
# machine that ran the command, one-line JSON, empty strings where a field is unset.

HELM_HISTORY_JSON = (  # helm history checkout -n shop --max 20 -o json
    '[{"revision":1,"updated":"2026-11-21T08:02:11.482034611-05:00","status":"superseded","chart":"checkout-0.4.1",'
    '"app_version":"1.16.0","description":"Install complete"},'
    '{"revision":2,"updated":"2026-11-21T08:40:55.90311-05:00","status":"failed","chart":"checkout-0.4.2",'
    '"app_version":"1.17.0","description":"Upgrade \\"checkout\\" failed: context deadline exceeded"},'
    '{"revision":3,"updated":"2026-11-21T08:47:01.000000001-05:00","status":"superseded","chart":"checkout-0.4.1",'
    '"app_version":"1.16.0","description":"Rollback to 1"},'
    '{"revision":4,"updated":"2026-11-21T09:10:00.1-05:00","status":"superseded","chart":"checkout-0.4.3",'
    '"app_version":"1.17.1","description":"Upgrade complete"},'
    '{"revision":5,"updated":"2026-11-21T09:30:00.2-05:00","status":"superseded","chart":"checkout-0.4.4",'
    '"app_version":"1.18.0","description":"Upgrade complete"},'
    '{"revision":6,"updated":"2026-11-21T09:35:00.3-05:00","status":"superseded","chart":"checkout-0.4.3",'
    '"app_version":"1.17.1","description":"Rollback to 4"},'
    '{"revision":7,"updated":"2026-11-21T09:55:00.4-05:00","status":"deployed","chart":"checkout-0.5.0",'
    '"app_version":"3f9c2e1","description":"Upgrade complete"},'
    '{"revision":8,"updated":"2026-11-21T09:59:30.5-05:00","status":"pending-upgrade","chart":"checkout-0.5.1",'
    '"app_version":"20261121","description":"Preparing upgrade"}]\n'
)
HELM_OTHER_STATUSES = [  # other releases' histories: the statuses a single release rarely shows together
    {"revision": 1, "updated": "2026-11-21T14:00:00Z", "status": "pending-install", "chart": "cart-1.0.0", "app_version": "1.0.0", "description": "Initial install underway"},
    {"revision": 2, "updated": "2026-11-21T14:05:00Z", "status": "pending-rollback", "chart": "cart-1.0.0", "app_version": "1.0.0", "description": "Rollback to 1"},
    {"revision": 3, "updated": "2026-11-21T14:06:00Z", "status": "uninstalled", "chart": "cart-1.0.1", "app_version": "1.0.1", "description": "Uninstallation complete"},
    {"revision": 4, "updated": "2026-11-21T14:07:00Z", "status": "uninstalling", "chart": "cart-1.0.1", "app_version": "", "description": "Deletion in progress (or silently failed)"},
    {"revision": 5, "updated": "2026-11-21T14:08:00Z", "status": "unknown", "chart": "cart-1.0.1", "app_version": "", "description": ""},
]  # fmt: skip


def argocd_multi_source_app() -> dict[str, Any]:
    """`kubectl get application checkout -n argocd -o json` of a multi-source (chart + values repo) app."""
    chart = {"repoURL": "https://charts.acme.dev", "chart": "checkout", "targetRevision": "0.5.*", "helm": {"valueFiles": ["$values/prod.yaml"]}}
    values = {"repoURL": "https://github.com/acme/deploy-values.git", "targetRevision": "main", "ref": "values"}
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "checkout", "namespace": "argocd", "uid": "6f1c"},
        "spec": {"destination": {"namespace": "shop", "server": "https://kubernetes.default.svc"}, "project": "default", "sources": [chart, values]},
        "status": {
            "history": [
                # an Argo CD < 2.3 entry: deployedAt only
                {"id": 0, "deployedAt": "2026-11-20T10:00:00Z", "revisions": ["0.4.9", SHAS[0]], "sources": [chart, values]},
                {"id": 1, "deployStartedAt": "2026-11-21T13:00:00Z", "deployedAt": "2026-11-21T13:00:41Z",
                 "revisions": ["0.5.0", SHAS[1]], "sources": [chart, values], "initiatedBy": {"username": "alice@acme.dev"}},
                {"id": 2, "deployStartedAt": "2026-11-21T13:50:00Z", "deployedAt": "2026-11-21T13:51:02Z",
                 "revisions": ["0.5.1", SHAS[2]], "sources": [chart, values], "initiatedBy": {"automated": True}},
            ],
            "operationState": {"phase": "Running", "message": "waiting for healthy state of apps/Deployment/checkout",
                               "startedAt": "2026-11-21T13:58:00Z",
                               "operation": {"sync": {"revisions": ["0.5.2", SHAS[3]]}, "initiatedBy": {"automated": True}}},
            "sync": {"status": "OutOfSync", "revisions": ["0.5.1", SHAS[2]]},
            "health": {"status": "Progressing"},
        },
    }  # fmt: skip


def github_rest_pages() -> str:
    """`gh api --paginate repos/acme/checkout/deployments` followed by each deployment's statuses
    (`gh api repos/.../deployments/ID/statuses`), concatenated as a shell loop leaves them."""
    def dep(i: int, at: str, env: str) -> dict[str, Any]:
        return {"url": f"https://api.github.com/repos/acme/checkout/deployments/{i}", "id": i, "node_id": f"DE_{i}",
                "task": "deploy", "original_environment": env, "environment": env, "description": None,
                "created_at": at, "updated_at": at, "statuses_url": f"https://api.github.com/repos/acme/checkout/deployments/{i}/statuses",
                "repository_url": "https://api.github.com/repos/acme/checkout", "creator": {"login": "deploy-bot[bot]", "id": 9, "type": "Bot"},
                "sha": SHAS[i % 9], "ref": "main", "payload": {}, "transient_environment": False, "production_environment": env == "production",
                "performed_via_github_app": None}  # fmt: skip

    def st(i: int, state: str, at: str) -> dict[str, Any]:
        return {"url": f"https://api.github.com/repos/acme/checkout/deployments/{i}/statuses/{i}{len(state)}", "id": i * 100 + len(state),
                "state": state, "creator": {"login": "deploy-bot[bot]"}, "description": "", "environment": "production",
                "target_url": "", "log_url": f"https://github.com/acme/checkout/actions/runs/{i}", "created_at": at, "updated_at": at,
                "deployment_url": f"https://api.github.com/repos/acme/checkout/deployments/{i}",
                "repository_url": "https://api.github.com/repos/acme/checkout"}  # fmt: skip

    page1 = [dep(103, "2026-11-21T13:55:00Z", "production"), dep(102, "2026-11-21T13:00:00Z", "production")]
    page2 = [dep(101, "2026-11-21T11:00:00Z", "production")]
    statuses = {
        103: [st(103, "failure", "2026-11-21T13:58:00Z"), st(103, "in_progress", "2026-11-21T13:55:05Z")],
        102: [st(102, "inactive", "2026-11-21T13:58:30Z"), st(102, "success", "2026-11-21T13:02:00Z"), st(102, "queued", "2026-11-21T13:00:01Z")],
        101: [st(101, "inactive", "2026-11-21T13:02:00Z"), st(101, "success", "2026-11-21T11:01:00Z")],
    }  # newest first, as the API lists them
    return json.dumps(page1) + json.dumps(page2) + "\n" + "\n".join(json.dumps(v) for v in statuses.values()) + "\n"


def github_graphql() -> dict[str, Any]:
    """`gh api graphql` with repository.deployments(last: N){nodes{...}}."""
    def node(db: int, at: str, sha: str, state: str, latest: str | None) -> dict[str, Any]:
        return {"id": f"DE_kwDO{db}", "databaseId": db, "createdAt": at, "environment": "production", "state": state,
                "commitOid": sha, "ref": {"name": "main"}, "creator": {"login": "octocat"}, "description": "",
                "latestStatus": {"state": latest, "createdAt": at} if latest else None}  # fmt: skip

    return {"data": {"repository": {"deployments": {"nodes": [
        node(201, "2026-11-21T12:00:00Z", SHAS[4], "INACTIVE", "INACTIVE"),
        node(202, "2026-11-21T13:00:00Z", SHAS[5], "ACTIVE", "SUCCESS"),
        node(203, "2026-11-21T13:55:00Z", SHAS[6], "FAILURE", "FAILURE"),
        node(204, "2026-11-21T13:59:00Z", SHAS[7], "IN_PROGRESS", "IN_PROGRESS"),
        node(205, "2026-11-21T14:00:00Z", SHAS[8], "QUEUED", None),
    ]}}}}  # fmt: skip


def flux_helmrelease() -> dict[str, Any]:
    """`kubectl get helmrelease checkout -n shop -o json` (helm-controller v2: status.history, newest first)."""
    def snap(v: int, at: str, status: str, app: str) -> dict[str, Any]:
        return {"name": "checkout", "namespace": "shop", "version": v, "status": status, "chartName": "checkout",
                "chartVersion": f"0.5.{v}", "appVersion": app, "configDigest": "sha256:9d1c", "digest": "sha256:77ab",
                "firstDeployed": "2026-11-20T10:00:00Z", "lastDeployed": at, "testHooks": {}}  # fmt: skip

    return {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "checkout", "namespace": "flux-system"},
            "spec": {"chart": {"spec": {"chart": "checkout", "version": "0.5.x"}}, "interval": "5m"},
            "status": {"history": [snap(4, "2026-11-21T13:57:00Z", "deployed", "1.17.1"), snap(3, "2026-11-21T13:50:00Z", "failed", "1.18.0"),
                                   snap(2, "2026-11-21T12:00:00Z", "superseded", "1.17.1"), snap(1, "2026-11-20T10:00:00Z", "superseded", "1.16.0")],
                       "lastAttemptedRevision": "0.5.4"}}  # fmt: skip


def spinnaker_executions() -> list[dict[str, Any]]:
    """GET /applications/checkout/pipelines (Spinnaker executions; epoch milliseconds)."""
    def ex(i: str, start: int | None, end: int | None, status: str, user: str) -> dict[str, Any]:
        return {"id": i, "type": "PIPELINE", "name": "Deploy to prod", "application": "checkout", "status": status,
                "buildTime": 1795010000000, "startTime": start, "endTime": end, "trigger": {"type": "manual", "user": user},
                "authentication": {"user": user}, "stages": []}  # fmt: skip

    ms = int(T0.timestamp() * 1000)
    return [ex("01JD1", ms - 3_600_000, ms - 3_300_000, "SUCCEEDED", "alice"), ex("01JD2", ms - 600_000, ms - 300_000, "TERMINAL", "bob"),
            ex("01JD3", ms - 120_000, None, "RUNNING", "bob"), ex("01JD4", ms - 60_000, ms - 50_000, "CANCELED", "eve")]  # fmt: skip
