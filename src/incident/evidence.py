"""Gather the evidence bundle once per triage: deploys, the error timeline, commits, patterns.

Every source is best effort. A refused log file, a path that is not a repository or a deploy
file that cannot be read becomes a `SourceNote` the operator sees, and the gathering goes on
with what is left: half the evidence at 3 a.m. beats a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from incident.clock import to_utc
from incident.errors import IncidentError
from incident.models import (
    Commit,
    Deploy,
    EndpointStat,
    ErrorTimeline,
    Evidence,
    LatencyProfile,
    LogPattern,
    SearchHit,
    SourceNote,
)
from incident.tools.base import PathRefused, ToolContext

Progress = Callable[[str, int, int], None]

MAX_DEPLOYS = 500  # most recent deploys kept in the bundle; rollback targets are rarely older
COMMIT_REACH = timedelta(days=14)  # how far before the window commits of a release may have been authored
BASELINE_FOR_ENDPOINTS = timedelta(minutes=30)
STEPS = ("deploys", "logs", "timeline", "latency", "patterns", "samples", "endpoints", "commits")


def _note(kind: Literal["repo", "deploys", "logs", "runbook"], path: object, err: BaseException) -> SourceNote:
    """A failed source, told in the operator's terms."""
    if isinstance(err, PathRefused):
        return SourceNote(kind=kind, path=err.path, refused=True, reason=err.reason, hint=err.hint)
    if isinstance(err, IncidentError):
        return SourceNote(kind=kind, path=str(path), refused=True, reason=err.message, hint=err.hint)
    if isinstance(err, OSError):
        return SourceNote(kind=kind, path=str(path), refused=True, reason=f"cannot be read ({err.strerror or err})")
    # A bug in a reader must not cost the operator the rest of the evidence; say what broke.
    return SourceNote(
        kind=kind, path=str(path), refused=True, reason=f"could not be read ({err.__class__.__name__}: {err})",
        hint="the rest of the evidence was gathered; rerun with INCIDENT_TRACEBACK=1 to report it",
    )


def window_for(started: datetime | None, now: datetime, lookback: timedelta) -> tuple[datetime, datetime]:
    """[min(started, now) - 2h or now - lookback, whichever is earlier, .. now]."""
    now = to_utc(now)
    anchor = min(to_utc(started), now) if started else now
    return min(anchor - timedelta(hours=2), now - lookback), now


class _Gatherer:
    def __init__(self, ctx: ToolContext, now: datetime, progress: Progress | None):
        self.ctx = ctx
        self.now = now
        self.progress = progress
        self.notes: list[SourceNote] = []
        self.step = 0

    def tick(self, label: str) -> None:
        if self.progress is not None:
            self.progress(label, self.step, len(STEPS))
        self.step += 1

    def attempt(self, kind: Literal["repo", "deploys", "logs", "runbook"], path: object, fn: Callable[[], Any], default: Any) -> Any:
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - every source failure becomes a note (module docstring)
            self.notes.append(_note(kind, path, e))
            return default


def _deploys(g: _Gatherer) -> list[Deploy]:
    from incident.tools.deploys import load_deploys

    if not g.ctx.deploy_paths:
        return []

    def load() -> list[Deploy]:
        deploys, notes = load_deploys(g.ctx)
        g.notes.extend(notes)
        return deploys

    deploys: list[Deploy] = g.attempt("deploys", ", ".join(g.ctx.deploy_paths), load, [])
    # Replaying a past incident (`--now`) must not see the future: the rollback made later,
    # or the fix deployed the next day.
    seen = [d for d in deploys if d.started_at <= g.now]
    return sorted(seen, key=lambda d: d.started_at)[-MAX_DEPLOYS:]


def _commit_since(window_start: datetime, deploys: list[Deploy], service: str | None) -> datetime:
    """Reach back to the last deploy of the service before the window: its successor carried
    every commit authored since, and those are the commits a suspect deploy shipped."""
    before = [
        d for d in deploys
        if d.started_at < window_start and d.succeeded and (service is None or d.service in (None, service))
    ]
    if not before:
        return window_start
    return max(before[-1].started_at, window_start - COMMIT_REACH)


def gather(
    ctx: ToolContext,
    *,
    service: str | None,
    started: datetime | None,
    now: datetime,
    lookback: timedelta = timedelta(hours=6),
    progress: Progress | None = None,
) -> Evidence:
    """Read every configured source once and return the bundle every phase and engine shares."""
    start, now = window_for(started, now, lookback)
    g = _Gatherer(ctx, now, progress)
    service = service or ctx.service

    g.tick("deploys")
    deploys = _deploys(g)
    logs = _logs(g, start, now, started)

    g.tick("commits")
    commits: list[Commit] = []
    if ctx.repo is not None:
        from incident.tools.git import recent_commits

        since = _commit_since(start, deploys, service)
        repo = ctx.repo
        commits = g.attempt("repo", repo, lambda: recent_commits(repo, since=since, until=now, max_count=50), [])
    if progress is not None:
        progress("done", len(STEPS), len(STEPS))

    return Evidence(
        service=service, now=now, window_start=start, window_end=now, timeline=logs.timeline, deploys=deploys,
        commits=commits, patterns=logs.patterns, error_samples=logs.samples, endpoints_after=logs.after,
        endpoints_before=logs.before, latency=logs.latency, sources=_dedupe(g.notes),
    )


@dataclass
class _Logs:
    timeline: ErrorTimeline | None = None
    patterns: list[LogPattern] = field(default_factory=list)
    samples: list[SearchHit] = field(default_factory=list)
    after: list[EndpointStat] = field(default_factory=list)
    before: list[EndpointStat] = field(default_factory=list)
    latency: LatencyProfile | None = None


def _logs(g: _Gatherer, start: datetime, now: datetime, started: datetime | None) -> _Logs:
    from incident.tools import logs as logtools
    from incident.tools.logscan import expand_paths
    from incident.tools.patterns import mine_patterns
    from incident.tools.timeline import error_timeline

    ctx, out = g.ctx, _Logs()
    g.tick("logs")
    paths: list[Path] = []
    if ctx.log_paths:
        def expand() -> list[Path]:
            found, notes = expand_paths(ctx.log_paths, ctx.roots)
            g.notes.extend(notes)
            return found

        paths = g.attempt("logs", ", ".join(ctx.log_paths), expand, [])
    if not paths:
        for step in ("timeline", "latency", "patterns", "samples", "endpoints"):
            g.tick(step)
        return out
    where = ", ".join(str(p) for p in paths)

    def scan_progress(done: int, total: int) -> None:
        if g.progress is not None:
            g.progress("timeline", done, total)

    g.tick("timeline")
    out.timeline = g.attempt(
        "logs", where, lambda: error_timeline(paths, since=start, until=now, now=now, progress=scan_progress), None,
    )
    g.tick("latency")
    out.latency = g.attempt("logs", where, lambda: _latency(paths, start, now), None)
    onset = out.timeline.onset if out.timeline and out.timeline.onset else None
    if onset is None and out.latency is not None and out.latency.onset is not None:
        # Requests slowed and errors did not rise: the slowdown dates what is "new" and "after".
        onset = out.latency.onset
    if onset is None and started:
        onset = to_utc(started)
    g.tick("patterns")
    out.patterns = g.attempt(
        "logs", where,
        lambda: mine_patterns(paths, since=start, until=now, now=now, level="error", new_since=onset, limit=50,
                              scrub=_scrubber()), [],
    )
    g.tick("samples")
    out.samples = g.attempt(
        "logs", where, lambda: logtools.error_records(paths, since=onset or start, until=now, now=now, limit=50), []
    )
    g.tick("endpoints")
    out.after = g.attempt(
        "logs", where, lambda: logtools.endpoint_stats(paths, since=onset or start, until=now, now=now, limit=20), []
    )
    if onset is not None and onset > start:
        # Half an hour before the onset is baseline enough, and bounds the scan on busy logs.
        base = max(start, onset - BASELINE_FOR_ENDPOINTS)
        out.before = g.attempt(
            "logs", where, lambda: logtools.endpoint_stats(paths, since=base, until=onset, now=now, limit=20), []
        )
    return out


def _latency(paths: list[Path], start: datetime, now: datetime) -> LatencyProfile | None:
    """Request durations over the window; per endpoint only around a sustained rise, the one
    time the engines need them (half an hour before its onset is the endpoints' baseline)."""
    from incident.tools.latency import endpoint_latency, profile

    prof = profile(paths, since=start, until=now, now=now)
    if not prof.requests:
        return None
    if prof.onset is not None:
        base = max(start, prof.onset - BASELINE_FOR_ENDPOINTS)
        prof.endpoints = endpoint_latency(paths, split=prof.onset, since=base, until=now, now=now)
    return prof


def _dedupe(notes: list[SourceNote]) -> list[SourceNote]:
    # One refused file can fail every log step; the operator needs to hear it once.
    seen: set[tuple[str, str, str]] = set()
    out = []
    for n in notes:
        key = (n.kind, n.path, n.reason)
        if key not in seen:
            seen.add(key)
            out.append(n)
    return out


def _scrubber() -> Callable[[str], str]:
    """Templates reach prompts: redact each message before the miner masks it (see mine_records)."""
    from incident.redact import redact

    return lambda text: redact(text)[0]
