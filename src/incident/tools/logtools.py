"""The log tools a model may call: search_logs, error_timeline, log_patterns.

Each reads only `ctx.log_paths` inside `ctx.roots` (a model may narrow the paths, never widen
the roots), returns bounded text for the model and the structured result as `data`. The log text
these tools show (search hits and their context, pattern templates and samples) is redacted here,
before it leaves the tool: only what is shown, so the cost does not grow with the log.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from incident.clock import iso, parse_when
from incident.errors import IncidentError
from incident.models import LogPattern, SearchHit, SourceNote
from incident.redact import redact
from incident.tools.base import Tool, ToolArgs, ToolContext, ToolResult, cap_text


class _Window(ToolArgs):
    since: str | None = Field(None, max_length=64, description="Start of the window: ISO 8601 (UTC if no offset) or a duration before now such as '90m', '2h'.")
    until: str | None = Field(None, max_length=64, description="End of the window (same forms). Default: now.")
    paths: list[str] | None = Field(
        None, max_length=20,
        description="Optional subset of the configured log files/globs to read. Paths outside the read roots are refused.",
    )


def _when(ctx: ToolContext, value: str | None) -> datetime | None:
    return parse_when(value, now=ctx.now) if value else None


def _files(ctx: ToolContext, args: _Window) -> tuple[list[Path], list[SourceNote]]:
    from incident.tools.logscan import expand_paths

    specs = [p[:4096] for p in (args.paths or ctx.log_paths)]
    return expand_paths(specs, ctx.roots)


def _refusals(notes: list[SourceNote]) -> str:
    return "".join(f"refused {n.path}: {n.reason}. {n.hint}".rstrip() + "\n" for n in notes if n.refused)


class _Redacting:
    """Redacts the log text a tool shows and counts the secrets (the engine adds them to usage)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, text: str) -> str:
        out, n = redact(text)
        self.count += n
        return out

    def hit(self, h: SearchHit) -> SearchHit:
        return h.model_copy(update={"text": self(h.text), "before": [self(x) for x in h.before], "after": [self(x) for x in h.after]})

    def pattern(self, p: LogPattern) -> LogPattern:
        return p.model_copy(update={"template": self(p.template), "sample": self(p.sample)})


def _fail(name: str, e: IncidentError) -> ToolResult:
    return ToolResult(tool=name, status="error", text=f"{e.message}. {e.hint}".strip())


class SearchLogsArgs(_Window):
    pattern: str = Field(..., min_length=1, max_length=2000, description="Regular expression (Rust/Python syntax) or, with literal=true, plain text.")
    literal: bool = Field(False, description="Treat the pattern as plain text.")
    context: int = Field(0, ge=0, le=5, description="Lines of context before and after each hit.")
    max_hits: int = Field(50, ge=1, le=200, description="Stop after this many hits.")


def search_logs(ctx: ToolContext, args: SearchLogsArgs) -> ToolResult:
    """Search the incident's log files for a regex or literal text, optionally within a time window.
    Returns matching lines as `path:line [time] text`, with context lines if asked. Use it to find
    a specific error message, request id or exception class; use error_timeline for rates."""
    from incident.tools.logs import search

    try:
        files, notes = _files(ctx, args)
        if not files:
            return ToolResult(tool="search_logs", status="no_data", text=_refusals(notes) + "no readable log files")
        res = search(files, args.pattern, literal=args.literal, since=_when(ctx, args.since), until=_when(ctx, args.until),
                     now=ctx.now, context=args.context, max_hits=args.max_hits)
    except IncidentError as e:
        return _fail("search_logs", e)
    safe = _Redacting()
    res = res.model_copy(update={"hits": [safe.hit(h) for h in res.hits]})
    lines = [_refusals(notes).rstrip()] if notes else []
    for h in res.hits:
        lines += [f"  {b}" for b in h.before]
        lines.append(f"{h.path}:{h.line_no} [{iso(h.at) or '-'}] {h.text}")
        lines += [f"  {a}" for a in h.after]
    if res.truncated:
        lines.append(f"[truncated: stopped at {args.max_hits} hits; narrow the pattern or the window]")
    text, cut = cap_text("\n".join(x for x in lines if x), ctx.max_chars)
    status: Literal["ok", "no_data"] = "ok" if res.hits else "no_data"
    if not res.hits:
        text = (text + "\n" if text else "") + f"no match in {res.files_scanned} file(s)"
    return ToolResult(tool="search_logs", status=status, text=text, data=res, truncated=res.truncated or cut, redactions=safe.count)


class ErrorTimelineArgs(_Window):
    bucket_minutes: int = Field(1, ge=1, le=60, description="Bucket size in minutes.")


def error_timeline(ctx: ToolContext, args: ErrorTimelineArgs) -> ToolResult:
    """Errors per minute in the incident's logs over a window (default: the last 2 hours), with the
    baseline rate before the rise, the onset (first minute of a sustained rise), the peak, the
    recent rate, error ratios (errors / log records), whether the rate is still elevated at the
    end of the window and when it recovered. Use it to date the onset and verify a mitigation."""
    from incident.tools.timeline import error_timeline as run

    try:
        files, notes = _files(ctx, args)
        if not files:
            return ToolResult(tool="error_timeline", status="no_data", text=_refusals(notes) + "no readable log files")
        since = _when(ctx, args.since or "2h")
        tl = run(files, since=since, until=_when(ctx, args.until) or ctx.now, now=ctx.now, bucket_seconds=args.bucket_minutes * 60)
    except IncidentError as e:
        return _fail("error_timeline", e)
    head = [
        f"window {iso(tl.start)} .. {iso(tl.end)}, {len(tl.buckets)} buckets of {tl.bucket_seconds // 60} min",
        f"baseline {tl.baseline_errors_per_min}/min (ratio {tl.baseline_error_ratio}); peak {tl.peak_errors_per_min}/min; recent {tl.recent_errors_per_min}/min (ratio {tl.recent_error_ratio})",
        f"onset {iso(tl.onset) or 'none found'}; still elevated: {tl.still_elevated}; recovered at {iso(tl.recovered_at) or '-'}",
        f"{tl.error_lines} error records of {tl.total_lines}; {tl.lines_without_time} without a timestamp",
    ]
    rows = [f"{iso(b.at)} errors={b.errors} total={b.total}" for b in tl.buckets if b.errors or b.at == tl.onset]
    text, cut = cap_text("\n".join([_refusals(notes).rstrip(), *head, "non-zero buckets:", *rows]).strip(), ctx.max_chars)
    status: Literal["ok", "no_data"] = "ok" if tl.buckets else "no_data"
    return ToolResult(tool="error_timeline", status=status, text=text, data=tl, truncated=cut)


class LogPatternsArgs(_Window):
    level: Literal["any", "warn", "error"] = Field("error", description="Lowest level to include.")
    new_since: str | None = Field(None, max_length=64, description="Mark templates first seen at/after this time and absent before it (e.g. the onset).")
    limit: int = Field(30, ge=1, le=100, description="Most frequent templates to return.")


def log_patterns(ctx: ToolContext, args: LogPatternsArgs) -> ToolResult:
    """Cluster log lines in a window into templates (numbers, ids, IPs, paths, quoted strings
    masked as <*>), most frequent first, with counts, first/last seen and a sample line. With
    new_since, says which templates are new since then (absent from the baseline before it) —
    the quickest way to see what started failing."""
    from incident.tools.patterns import mine_patterns

    try:
        files, notes = _files(ctx, args)
        if not files:
            return ToolResult(tool="log_patterns", status="no_data", text=_refusals(notes) + "no readable log files")
        pats = mine_patterns(files, since=_when(ctx, args.since or "2h"), until=_when(ctx, args.until) or ctx.now, now=ctx.now,
                             level=args.level, new_since=_when(ctx, args.new_since), limit=args.limit,
                             scrub=lambda t: redact(t)[0])  # before masking: see mine_records
    except IncidentError as e:
        return _fail("log_patterns", e)
    safe = _Redacting()
    pats = [safe.pattern(p) for p in pats]
    safe.count += sum(p.template.count("[REDACTED:") for p in pats)  # redacted while mining
    rows = [f"{p.count:>7}  {'NEW ' if p.new else ''}{p.level or '-':<5} {iso(p.first_seen) or '-'} .. {iso(p.last_seen) or '-'}  {p.template}" for p in pats]
    text, cut = cap_text("\n".join(x for x in [_refusals(notes).rstrip(), *rows] if x), ctx.max_chars)
    return ToolResult(tool="log_patterns", status="ok" if pats else "no_data", text=text or "no matching lines", data=pats, truncated=cut,
                      redactions=safe.count)


TOOLS: list[Tool[Any]] = [
    Tool("search_logs", SearchLogsArgs, search_logs),
    Tool("error_timeline", ErrorTimelineArgs, error_timeline),
    Tool("log_patterns", LogPatternsArgs, log_patterns),
]
