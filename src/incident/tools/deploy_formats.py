"""Deploy logs kept by teams: JSON lines, JSON/YAML arrays of records and CSV, with the key aliases
real deploy scripts write (timestamp/time/deployed_at, env/environment, commit/git_sha, user/deployer...).

Rows are lazy on the first pass (time only), so a million-row log is bounded and ordered before
the few rows kept are normalised by `expand`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any

from incident.errors import UsageError
from incident.tools.deploy_values import (
    Counts,
    Row,
    items,
    looks_like_sha,
    parse_time,
    status,
    text,
)

FORMATS = ("jsonl", "csv", "helm", "argocd", "heroku", "github", "flux")

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
    ident = text(vals.get("id"), 120)
    if sha is None and looks_like_sha(ident):
        sha = ident  # `revision: 3f9c2e1` is a commit (Argo CD, Flux); `revision: 12` is not
    description = text(vals.get("description"), 500)
    return {
        "id": ident,
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
        if n == 1 and line.startswith(b"\xef\xbb\xbf"):  # a BOM (Windows editors, PowerShell's utf8BOM)
            line = line[3:]
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


_CHUNK = 1 << 20
_MAX_ENTRY = 16 << 20  # one record larger than this is not a deploy


def array_rows(stream: IO[bytes], counts: Counts) -> Iterator[Row]:
    """Lazy rows from one top-level JSON array of records, decoded element by element: a 200 MB
    export costs the memory of one chunk, not the gigabyte `json.loads` would take."""
    reader = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace")
    buf, pos, eof, n, line = "", 0, False, 0, 1

    def more() -> bool:
        nonlocal buf, pos, eof, line
        chunk = reader.read(_CHUNK)
        eof = not chunk
        line += buf.count("\n", 0, pos)
        buf, pos = buf[pos:] + chunk, 0
        return not eof

    more()
    while True:
        while True:  # to the next element: past whitespace, the opening bracket and commas
            while pos < len(buf) and buf[pos] in " \t\r\n,[":
                pos += 1
            if pos < len(buf) or not more():
                break
        if pos >= len(buf):
            counts.skip(f"entry {n + 1}", "the array ends before its closing ] (truncated?)")
            return
        if buf[pos] == "]":
            return
        try:
            obj, end = _DECODER.raw_decode(buf, pos)
        except json.JSONDecodeError as e:
            if not eof and len(buf) - pos < _MAX_ENTRY and more():
                continue
            counts.rows += 1
            where = f"line {line + buf.count(chr(10), 0, e.pos)}"
            counts.skip(f"entry {n + 1}", f"not valid JSON at {where} ({e.msg}; truncated?)" if e.pos >= len(buf.rstrip()) or e.msg.startswith("Unterminated") else f"not valid JSON at {where} ({e.msg})")
            return
        pos, n = end, n + 1
        counts.rows += 1
        at = _time_of(obj) if isinstance(obj, dict) else None
        if at is None:
            counts.skip(f"entry {n}", "not an object with a readable deploy time")
            continue
        yield {"started_at": at, "_raw": obj, "source": "jsonl"}


def csv_rows(stream: io.TextIOBase, counts: Counts) -> Iterator[Row]:
    header_line = stream.readline()
    delimiter = max(",\t;|", key=header_line.count)
    header = next(csv.reader([header_line], delimiter=delimiter), [])
    times = [i for i, h in enumerate(header) if canonical_key(h) == "at"]
    if not times and header_line.strip():
        shown = (", ".join(h.strip()[:30] for h in header[:8]) or header_line.strip())[:100]
        raise UsageError(
            f"no time column in the CSV header ({shown})",
            "the first row must name the columns, one of them the deploy time: at, time, timestamp, deployed_at, created_at...",
        )
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
    for i, item in enumerate(items(doc, counts)):
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


def csv_headerless(line: str) -> bool:
    """A first row of values (a time among them) rather than column names."""
    delimiter = max(",\t;|", key=line.count)
    cells = line.split(delimiter)
    return len(cells) > 1 and any(parse_time(c.strip().strip('"')) for c in cells[:12])
