"""Deploy history formats: detection, timestamps, and one parser per source.

Each parser yields plain dicts of `Deploy` fields (started_at already a UTC datetime) and counts
what it had to skip; `deploys.py` bounds, merges and orders them. Row-level problems are
counted, never raised: a deploy log written by hand for years has odd lines in it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

FORMATS = ("jsonl", "csv", "helm", "argocd", "heroku", "github")
Row = dict[str, Any]

# ---------------------------------------------------------------- timestamps

_FRACTION = re.compile(r"(\.\d{6})\d+")  # helm and Go write nanoseconds; Python takes microseconds
_GO_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) ([+-]\d{4})(?: [A-Z]{2,5})?(?: m=\S+)?$"
)
_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")
_MIN_EPOCH, _MAX_EPOCH = 0, 7_258_118_400  # 1970 .. 2200: anything else is not a deploy time


def _epoch(n: float) -> datetime | None:
    a = abs(n)
    scale = 1e9 if a >= 1e17 else 1e6 if a >= 1e14 else 1e3 if a >= 1e11 else 1
    secs = n / scale
    if not _MIN_EPOCH < secs < _MAX_EPOCH:
        return None
    return datetime.fromtimestamp(secs, UTC)


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (any fraction length, Z or offsets, T or space), epoch s/ms/µs/ns, Go's
    `2024-01-15 10:30:00 +0000 UTC`, RFC 2822 and ctime (`Mon Jan 15 10:30:00 2024`). Naive is UTC."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, datetime):  # YAML loads unquoted timestamps as datetimes
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, (int, float)):
        return _epoch(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 64:
        return None
    dt: datetime | None = None
    if len(text) >= 10 and text[4] == "-":
        try:  # the common case, in C: 3.11 takes Z, offsets and any number of fraction digits
            dt = datetime.fromisoformat(text)
        except ValueError:
            dt = None
    if dt is None:
        if _NUMERIC.match(text):
            return _epoch(float(text))
        dt = _slow_time(text)
        if dt is None:
            return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _slow_time(text: str) -> datetime | None:
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(r"\1", text)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    m = _GO_TIME.match(text)
    if m:
        try:
            clock = _FRACTION.sub(r"\1", m.group(2))
            return datetime.fromisoformat(f"{m.group(1)}T{clock}{m.group(3)}")
        except ValueError:
            return None
    for fmt in ("%a %b %d %H:%M:%S %Y", "%a %b %d %H:%M:%S %Z %Y", "%d/%b/%Y:%H:%M:%S %z"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------- values


_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")
_ROLLBACK_TO = re.compile(r"\broll(?:ed)?[ -]?back (?:to )?(?:revision |release |version )?v?([\w.-]+)", re.I)


def looks_like_sha(v: str | None) -> bool:
    return bool(v) and bool(_SHA.match(v or "")) and any(c.isdigit() for c in v or "")


def text(v: Any, limit: int = 300) -> str | None:
    """A scalar as text; a nested object by its most telling name (user.email, creator.login)."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, dict):
        for k in ("email", "login", "username", "name", "id"):
            if isinstance(v.get(k), (str, int)):
                return text(v[k], limit)
        return None
    if isinstance(v, (list, tuple)):
        return None
    s = str(v).strip()
    return s[:limit] if s else None


_STATUS = {
    **dict.fromkeys(
        "succeeded success successful ok done complete completed deployed superseded healthy synced finished "
        "pass passed released live active inactive true".split(),
        "succeeded",
    ),
    **dict.fromkeys(
        "fail failed failure error errored crashed aborted cancelled canceled timeout timed_out false".split(),
        "failed",
    ),
    **dict.fromkeys(
        "pending pending_install pending_upgrade pending_rollback in_progress inprogress running started queued "
        "deploying progressing uninstalling waiting syncing terminating".split(),
        "in_progress",
    ),
    **dict.fromkeys("rolled_back rolledback reverted rollbacked".split(), "rolled_back"),
}


def status(v: Any) -> str:
    if isinstance(v, bool):
        return "succeeded" if v else "failed"
    s = text(v, 40)
    if not s:
        return "unknown"
    return _STATUS.get(s.lower().replace("-", "_").replace(" ", "_"), "unknown")


def rollback_target(description: str | None) -> str | None:
    """`Rollback to 3` (helm), `Rollback to v41` (Heroku) → "3" / "41"."""
    if not description:
        return None
    m = _ROLLBACK_TO.search(description)
    return m.group(1).rstrip(".") if m else None


# ---------------------------------------------------------------- generic records (jsonl, csv)


def _norm_key(k: str) -> str:
    k = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", k.strip().lstrip("@"))
    return re.sub(r"[\s.\-]+", "_", k).lower()


_ALIASES: dict[str, tuple[str, ...]] = {
    "at": ("at", "timestamp", "time", "ts", "date", "datetime", "when", "deployed_at", "deploy_time", "deployed",
           "created_at", "created", "started_at", "start_time", "started", "deploy_started_at", "event_time"),
    "finished_at": ("finished_at", "finished", "ended_at", "end_time", "completed_at", "done_at", "deploy_finished_at"),
    "service": ("service", "app", "application", "component", "service_name", "app_name", "application_name", "project", "svc"),
    "id": ("id", "deploy_id", "deployment_id", "deployment", "revision", "release", "release_id", "run_id", "deploy"),
    "version": ("version", "app_version", "release_version", "tag", "image_tag", "build", "build_number", "artifact_version"),
    "sha": ("sha", "commit", "git_sha", "commit_sha", "commit_id", "git_commit", "ref", "git_ref", "hash", "revision_sha"),
    "status": ("status", "state", "result", "outcome", "conclusion", "success"),
    "actor": ("actor", "user", "author", "deployer", "deployed_by", "triggered_by", "by", "username", "initiator", "creator", "owner"),
    "description": ("description", "message", "msg", "notes", "note", "change_cause", "summary", "comment", "reason", "title"),
    "environment": ("environment", "env", "stage", "target_env", "deploy_env", "tier", "target_environment"),
    "rollback_of": ("rollback_of", "rollback_to", "rolled_back_to", "rollback_target", "is_rollback_of", "restores"),
    "undoes": ("rolled_back_from", "rollback_from", "reverts", "undoes"),
}  # fmt: skip
_ALIAS_OF = {_norm_key(a): canon for canon, names in _ALIASES.items() for a in names}
_KEY_CACHE: dict[str, str | None] = {}


def canonical_key(key: str) -> str | None:
    got = _KEY_CACHE.get(key, "")
    if got == "":
        got = _ALIAS_OF.get(_norm_key(key)) if len(key) < 64 else None
        if len(_KEY_CACHE) < 10_000:
            _KEY_CACHE[key] = got
    return got


def record(raw: dict[str, Any], source: str) -> Row | None:
    """A deploy from a flat record with canonical or alias keys; None if it has no usable time."""
    vals: dict[str, Any] = {}
    for k, v in raw.items():
        canon = canonical_key(k) if isinstance(k, str) else None
        if canon is not None and canon not in vals and v not in (None, ""):
            vals[canon] = v
    started = parse_time(vals.get("at"))
    if started is None:
        return None
    sha, version = text(vals.get("sha"), 80), text(vals.get("version"), 120)
    if sha and not looks_like_sha(sha):
        version, sha = version or sha, None  # a `ref` that is a branch or tag name
    description = text(vals.get("description"), 500)
    return {
        "id": text(vals.get("id"), 120),
        "service": text(vals.get("service"), 120),
        "environment": text(vals.get("environment"), 80),
        "version": version,
        "sha": sha,
        "started_at": started,
        "finished_at": parse_time(vals.get("finished_at")),
        "status": status(vals.get("status")),
        "actor": text(vals.get("actor"), 120),
        "description": description,
        "rollback_of": (text(vals.get("rollback_of"), 120) or "").lstrip("v") or None,
        "undoes": text(vals.get("undoes"), 120),
        "source": source,
    }


@dataclass
class Counts:
    rows: int = 0
    skipped: int = 0
    first_problem: str = ""
    notes: list[str] = field(default_factory=list)

    def skip(self, where: str, why: str) -> None:
        self.skipped += 1
        if not self.first_problem:
            self.first_problem = f"{where}: {why}"


_DECODER = json.JSONDecoder()
_TIME_KEYS: dict[tuple[Any, ...], tuple[str, ...]] = {}


def _time_of(raw: dict[str, Any]) -> datetime | None:
    """The deploy time alone: the first pass over a million-row log needs nothing else."""
    shape = tuple(raw)
    keys = _TIME_KEYS.get(shape)
    if keys is None:
        keys = tuple(k for k in shape if isinstance(k, str) and canonical_key(k) == "at")
        if len(_TIME_KEYS) < 1000:
            _TIME_KEYS[shape] = keys
    for k in keys:
        v = raw[k]
        if v not in (None, ""):
            return parse_time(v)
    return None


def jsonl_rows(lines: Iterable[bytes], counts: Counts) -> Iterator[Row]:
    """Lazy rows ({started_at, _raw}); `expand` normalises the few that are kept."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        counts.rows += 1
        try:
            obj = _DECODER.decode(line.decode("utf-8", "replace"))
        except ValueError:
            counts.skip(f"line {n}", "not JSON")
            continue
        if not isinstance(obj, dict):
            counts.skip(f"line {n}", "not a JSON object")
            continue
        at = _time_of(obj)
        if at is None:
            counts.skip(f"line {n}", "no readable deploy time")
            continue
        yield {"started_at": at, "_raw": obj, "source": "jsonl"}


def csv_rows(stream: io.TextIOBase, counts: Counts) -> Iterator[Row]:
    header_line = stream.readline()
    delimiter = max(",\t;|", key=header_line.count)
    header = next(csv.reader([header_line], delimiter=delimiter), [])
    times = [i for i, h in enumerate(header) if canonical_key(h) == "at"]
    reader = csv.reader(stream, delimiter=delimiter)
    for n, cells in enumerate(reader, 2):
        if not cells or not any(c.strip() for c in cells):
            continue
        counts.rows += 1
        at = next(
            (t for t in (parse_time(cells[i]) for i in times if i < len(cells) and cells[i]) if t), None
        )
        if at is None:
            counts.skip(f"line {n}", "no readable deploy time")
            continue
        yield {"started_at": at, "_raw": cells, "_header": header, "source": "csv"}


def expand(row: Row) -> Row | None:
    """A lazy row from `jsonl_rows`/`csv_rows` normalised into Deploy fields."""
    raw = row.get("_raw")
    if raw is None:
        return row
    if not isinstance(raw, dict):
        raw = dict(zip(row["_header"], raw, strict=False))
    return record(raw, row["source"])


def records_rows(doc: Any, counts: Counts) -> Iterator[Row]:
    """Generic records given as one JSON/YAML array instead of JSON lines."""
    for i, item in enumerate(_items(doc, counts)):
        row = record(item, "jsonl")
        if row is None:
            counts.skip(f"entry {i + 1}", "no readable deploy time")
            continue
        yield row


def csv_header_ok(line: str) -> bool:
    delimiter = max(",\t;|", key=line.count)
    if line.count(delimiter) == 0:
        return False
    keys = {canonical_key(c.strip().strip('"')) for c in line.split(delimiter)}
    return "at" in keys


# ---------------------------------------------------------------- whole-document formats


def _items(doc: Any, counts: Counts) -> Iterator[dict[str, Any]]:
    for i, item in enumerate(doc if isinstance(doc, list) else [doc]):
        counts.rows += 1
        if isinstance(item, dict):
            yield item
        else:
            counts.skip(f"entry {i + 1}", "not an object")


def helm_rows(doc: Any, counts: Counts, service: str | None) -> Iterator[Row]:
    for item in _items(doc, counts):
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
        for item in _items(history, counts):
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
    for item in _items(doc, counts):
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
    for item in _items(doc, counts):
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
