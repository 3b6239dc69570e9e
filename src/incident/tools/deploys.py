"""Deploy history from whatever the team keeps: deploy logs, helm, Argo CD, Heroku, GitHub, tags.

Everything becomes one `Deploy`. Failed deploys are kept (marked failed): a failed rollout is
evidence too. A deploy that a later rollback undid is marked `rolled_back`, so it is never
offered as the known-good rollback target.

`Deploy.rollback_of` holds the id of the deploy a rollback *returns to* ("Rollback to 26" →
"26"), which is what helm, Heroku and most deploy logs record.
"""

from __future__ import annotations

import glob
import heapq
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from incident.clock import iso, parse_when
from incident.errors import IncidentError, UsageError
from incident.models import Deploy, SourceNote
from incident.tools import deploy_docs as docs
from incident.tools import deploy_formats as fm
from incident.tools.base import PathRefused, Tool, ToolArgs, ToolContext, ToolResult, cap_text
from incident.tools.deploy_io import BOM_AND_SPACE, MISSING, detect_format, head, load_doc, open_bytes, sniff
from incident.tools.deploy_rollbacks import last_good_before, mark_rolled_back
from incident.tools.deploy_sources import check_format, deploys_from_tags, pair_formats

FORMATS = fm.FORMATS
MAX_KEEP = 20_000  # newest deploys kept per source; an incident needs the recent ones
_MERGE_WINDOW = timedelta(hours=6)  # a "started" row and its "finished" row of the same deploy


@dataclass
class DeployRead:
    """One source read: its deploys (oldest first), the format used, and what was skipped."""

    path: str
    format: str
    deploys: list[Deploy] = field(default_factory=list)
    rows: int = 0
    skipped: int = 0
    dropped_old: int = 0
    first_problem: str = ""
    empty: bool = False

    def summary(self) -> str:
        if self.empty:
            return "empty file, no deploys"
        s = f"{len(self.deploys)} deploys ({self.format})"
        if self.skipped:
            s += f", {self.skipped} unreadable rows skipped (first: {self.first_problem})"
        if self.dropped_old:
            s += f", {self.dropped_old} older deploys not kept"
        return s


# ---------------------------------------------------------------- reading


_DocParser = Callable[[Any, fm.Counts, str | None], Iterator[fm.Row]]
_PARSERS: dict[str, _DocParser] = {
    "helm": docs.helm_rows,
    "argocd": docs.argocd_rows,
    "heroku": docs.heroku_rows,
    "github": docs.github_rows,
    "flux": docs.flux_rows,
}


def _rows(path: Path, fmt: str, doc: Any, counts: fm.Counts, service: str | None) -> Iterator[fm.Row]:
    if fmt in _PARSERS:
        yield from _PARSERS[fmt](load_doc(path) if doc is MISSING else doc, counts, service)
        return
    if fmt == "jsonl" and doc is MISSING:
        with open_bytes(path) as f:
            if head(path).lstrip(BOM_AND_SPACE)[:1] == b"[":
                yield from fm.array_rows(f, counts)
            else:
                yield from fm.jsonl_rows(f, counts)
    elif fmt == "jsonl":
        yield from fm.records_rows(doc, counts)
    else:
        with (
            open_bytes(path) as f,
            io.TextIOWrapper(f, encoding="utf-8-sig", errors="replace", newline="") as t,
        ):
            yield from fm.csv_rows(t, counts)


def read_report(path: Path, fmt: str | None = None, *, service: str | None = None) -> DeployRead:
    """Read one deploy source; like `read_deploys` but says what was skipped and dropped.

    Raises UsageError naming the file when nothing in it can be read; when a format was named and
    the content says otherwise, the hint names the format it looks like.
    """
    path = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(
            f"unknown deploy format {fmt!r}",
            f"use one of: {', '.join(FORMATS)} (or git-tags for a repository)",
        )
    first_bytes = head(path)
    if not first_bytes.lstrip(BOM_AND_SPACE):
        return DeployRead(str(path), fmt or "empty", empty=True)
    try:
        return _read(path, fmt, first_bytes, service)
    except UsageError as e:
        message = e.message if str(path) in e.message else f"{path}: {e.message}"
        raise UsageError(message, _format_hint(path, fmt, first_bytes) or e.hint) from None


def _read(path: Path, fmt: str | None, first_bytes: bytes, service: str | None) -> DeployRead:
    doc: Any = MISSING
    if fmt is None:
        fmt, doc = sniff(path, first_bytes)
    counts = fm.Counts()
    try:
        kept, dropped = _newest(_rows(path, fmt, doc, counts, service))
    except (OSError, EOFError, UnicodeError) as e:
        raise UsageError(f"{path}: cannot read ({e})") from None
    deploys = _finish(kept, service, counts)
    if not deploys and counts.skipped:
        raise UsageError(
            f"{path}: no deploy could be read as {fmt} ({counts.skipped} rows skipped; first: {counts.first_problem})",
            f"check the file, or name its format with --deploys-format ({', '.join(FORMATS)})",
        )
    return DeployRead(str(path), fmt, deploys, counts.rows, counts.skipped, dropped, counts.first_problem)


def _format_hint(path: Path, forced: str | None, first_bytes: bytes) -> str:
    """When the operator named a format the file is not in: the one it looks like."""
    if forced is None:
        return ""
    try:
        looks = sniff(path, first_bytes)[0]
    except IncidentError:
        return ""
    if looks == forced:
        return ""
    return f"it looks like {looks}: use --deploys-format {looks}, or auto to detect it"


def read_deploys(path: Path, fmt: str | None = None, *, service: str | None = None) -> list[Deploy]:
    """Deploys from one file, oldest first. `service` fills in where the source names none."""
    return read_report(path, fmt, service=service).deploys


def _newest(rows: Iterable[fm.Row]) -> tuple[list[fm.Row], int]:
    """The newest MAX_KEEP rows, in time order; a million-row log streams through in bounded memory."""
    heap: list[tuple[datetime, int, fm.Row]] = []
    dropped = 0
    for seq, row in enumerate(rows):
        item = (row["started_at"], seq, row)
        if len(heap) < MAX_KEEP:
            heapq.heappush(heap, item)
        else:
            dropped += 1
            if item[0] > heap[0][0]:
                heapq.heapreplace(heap, item)
    heap.sort(key=lambda x: (x[0], x[1]))
    return [r for _, _, r in heap], dropped


def _merge(rows: list[fm.Row]) -> list[fm.Row]:
    """Fold a deploy log's "started" row and its later "finished" row (same id) into one deploy."""
    out: list[fm.Row] = []
    open_rows: dict[tuple[Any, ...], fm.Row] = {}
    for row in rows:
        key = (row.get("service"), row.get("environment"), row.get("id"), row.get("source"))
        prev = open_rows.get(key) if row.get("id") else None
        if prev is not None and row["started_at"] - prev["started_at"] <= _MERGE_WINDOW:
            if row["status"] != "unknown":
                prev["status"] = row["status"]
            if row["status"] in ("succeeded", "failed") or row.get("finished_at"):
                prev["finished_at"] = row.get("finished_at") or row["started_at"]
            for k, v in row.items():
                if prev.get(k) is None:
                    prev[k] = v
            if prev["status"] not in ("in_progress", "unknown"):
                del open_rows[key]
            continue
        out.append(row)
        if row.get("id") and row["status"] in ("in_progress", "unknown"):
            open_rows[key] = row
    return out


def _finish(lazy: list[fm.Row], service: str | None, counts: fm.Counts) -> list[Deploy]:
    rows = _merge([r for r in map(fm.expand, lazy) if r is not None])
    for row in rows:
        row.setdefault("service", None)
        if row["service"] is None:
            row["service"] = service
        if not row.get("id"):
            row["id"] = (
                row.get("version")
                or (row.get("sha") or "")[:12]
                or f"{row['source']}@{iso(row['started_at'])}"
            )
    mark_rolled_back(rows, get=dict.get, undone_key="undoes")
    out: list[Deploy] = []
    for row in rows:
        row.pop("undoes", None)
        try:
            out.append(Deploy(**row))
        except ValidationError as e:
            counts.skip(f"deploy {row.get('id')}", f"invalid ({e.error_count()} problems)")
    return out


# ---------------------------------------------------------------- tags and the toolbox


_MAX_GLOB = 100


def _expand(ctx: ToolContext, raw: str) -> list[str]:
    if glob.has_magic(raw) and not Path(raw).exists():
        ctx.roots.check_glob(raw)
        return sorted(glob.glob(raw))[:_MAX_GLOB] or [raw]
    return [raw]


def _one_source(ctx: ToolContext, raw: str, fmt: str | None) -> tuple[list[Deploy], SourceNote]:
    if fmt == "git-tags":
        from incident.tools.git_tools import checked_repo

        repo = checked_repo(ctx, Path(raw))
        deploys = deploys_from_tags(repo, service=ctx.service)
        return deploys, SourceNote(kind="deploys", path=raw, detail=f"{len(deploys)} release tags (git-tags)")
    path = ctx.roots.check(raw, want="file")
    report = read_report(path, fmt, service=ctx.service)
    return report.deploys, SourceNote(kind="deploys", path=raw, detail=report.summary())


def _refusal(e: PathRefused) -> SourceNote:
    return SourceNote(kind="deploys", path=e.path, refused=True, reason=e.reason, hint=e.hint)


def load_deploys(ctx: ToolContext) -> tuple[list[Deploy], list[SourceNote]]:
    """Every deploy source in the context, each read as its own format, oldest first. A refused or
    unreadable source becomes a note with the reason; it never stops the others."""
    raws = list(ctx.deploy_paths)
    if not raws and ctx.deploys_format == "git-tags" and ctx.repo is not None:
        raws = [str(ctx.repo)]
    deploys: list[Deploy] = []
    notes: list[SourceNote] = []
    for raw in map(str, raws):
        fmt = ctx.deploy_format(raw)
        if not ctx.deploy_paths:
            fmt = "git-tags"
        try:
            expanded = _expand(ctx, raw)
        except PathRefused as e:
            notes.append(_refusal(e))
            continue
        for one in expanded:
            try:
                got, note = _one_source(ctx, one, fmt)
            except PathRefused as e:
                notes.append(_refusal(e))
                continue
            except IncidentError as e:
                notes.append(SourceNote(kind="deploys", path=one, reason=e.message, hint=e.hint))
                continue
            deploys.extend(got)
            notes.append(note)
    deploys.sort(key=lambda d: d.started_at)
    return deploys, notes


# ---------------------------------------------------------------- the tool


class DeployHistoryArgs(ToolArgs):
    service: str | None = Field(
        None, max_length=120, description="Only this service's deploys (exact name). Default: every service."
    )
    since: str | None = Field(
        None,
        max_length=64,
        description="Start of the window: ISO 8601 or a duration before now (6h, 2d). Default: 7 days before now.",
    )
    until: str | None = Field(None, max_length=64, description="End of the window, same forms. Default: now.")
    max_count: int = Field(
        40, ge=1, le=200, description="At most this many deploys: the most recent ones in the window."
    )


def deploy_line(d: Deploy) -> str:
    bits = [iso(d.started_at) or "-", d.service or "-"]
    if d.environment:
        bits.append(d.environment)
    bits += [f"id={d.id}", d.version or "", (d.sha or "")[:12], d.status]
    if d.actor:
        bits.append(f"by {d.actor}")
    if d.rollback_of:
        bits.append(f"(rollback to {d.rollback_of})")
    if d.description:
        bits.append(repr(d.description[:160]))
    return "  ".join(b for b in bits if b)


def _deploy_history(ctx: ToolContext, args: DeployHistoryArgs) -> ToolResult:
    """List deploys (helm revisions, Argo CD syncs, Heroku releases, GitHub deployments, deploy-log
    entries or release tags) in a time window, oldest first: time (UTC), service, environment, id,
    version, sha, status (succeeded, failed, in_progress, rolled_back, unknown), who and why.
    Failed deploys are listed too. Use it to find the change that preceded the incident and the
    last good deploy to roll back to."""
    now = ctx.now
    try:
        start = parse_when(args.since, now=now) if args.since else now - timedelta(days=7)
        end = parse_when(args.until, now=now) if args.until else None
    except IncidentError as e:
        return ToolResult(tool="deploy_history", status="error", text=f"{e.message}. {e.hint}".strip())
    deploys, notes = load_deploys(ctx)
    problems = [f"source {n.path}: {n.reason}. {n.hint}".strip() for n in notes if n.reason]
    if not ctx.deploy_paths and ctx.deploys_format != "git-tags":
        return ToolResult(
            tool="deploy_history",
            status="error",
            text="no deploy history is configured (deploys: in .incident.yaml, or --deploys)",
        )
    if not deploys and problems and len(problems) == len(notes):
        return ToolResult(
            tool="deploy_history",
            status="error",
            text="\n".join(problems),
            data={"deploys": [], "sources": notes},
        )
    chosen = [
        d
        for d in deploys
        if d.started_at >= start
        and (end is None or d.started_at <= end)
        and (not args.service or d.service == args.service)
    ]
    more = len(chosen) - args.max_count
    chosen = chosen[-args.max_count :]
    window = f"{iso(start)} .. {iso(end) if end else 'now'}"
    if not chosen:
        text = "\n".join(
            [f"no deploys{' of ' + args.service if args.service else ''} between {window}", *problems]
        )
        return ToolResult(
            tool="deploy_history", status="no_data", text=text, data={"deploys": [], "sources": notes}
        )
    head = (
        f"{len(chosen)} deploys {window}"
        + (f" ({more} earlier ones in the window not shown)" if more > 0 else "")
        + ":"
    )
    body, cut = cap_text("\n".join([head, *(deploy_line(d) for d in chosen), *problems]), ctx.max_chars)
    return ToolResult(
        tool="deploy_history",
        status="ok",
        text=body,
        truncated=cut,
        data={"deploys": chosen, "sources": notes},
    )


TOOLS: list[Tool[Any]] = [Tool("deploy_history", DeployHistoryArgs, _deploy_history)]


__all__ = [
    "FORMATS",
    "TOOLS",
    "DeployRead",
    "deploys_from_tags",
    "detect_format",
    "last_good_before",
    "check_format",
    "load_deploys",
    "pair_formats",
    "mark_rolled_back",
    "read_deploys",
    "read_report",
]
