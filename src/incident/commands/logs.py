"""`incident logs search | timeline | patterns`: the log tools at the operator's fingertips.

Paths default to the configured service's log globs. The read roots are the directories of the
paths named here (the operator named them) plus config `roots` and any `--root`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from incident.commands.common import (
    WHEN_FORMS,
    ConfigOption,
    JsonOption,
    NowOption,
    RootOption,
    ServiceOption,
    SinceOption,
    UntilOption,
    runtime,
    when,
    window,
)

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from incident.models import SourceNote
    from incident.runtime import Runtime

logs_app = typer.Typer(
    help="Search logs, chart errors and latency per minute, and cluster lines into patterns (read-only).",
    short_help="Search logs, chart errors and latency per minute, find patterns.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

PathsArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="Log files, globs (quote them), directories, or - for stdin (default: the service's logs from config).",
        show_default=False,
    ),
]


WidthOption = Annotated[int, typer.Option("--width", metavar="N", min=10, max=400, help="Chart width in columns (10-400).")]
Since2hOption = Annotated[str, typer.Option("--since", metavar="WHEN", help=f"Start: {WHEN_FORMS}.")]


def register(app: typer.Typer) -> None:
    app.add_typer(logs_app, name="logs")


def _files(rt: Runtime, specs: list[str] | None, service: str | None, extra_roots: list[str] | None) -> tuple[list[Path], list[SourceNote]]:
    from incident.errors import NotFound, UsageError
    from incident.tools.base import Roots, spec_dir
    from incident.tools.logscan import expand_paths

    s = rt.settings
    if not specs:
        svc = s.service(service)
        if svc is None or not svc.logs:
            raise UsageError("no log files given", "name files or globs, or set `logs:` for the service in .incident.yaml")
        specs = [str(s.resolve(x)) for x in svc.logs]
    roots = [spec_dir(x) for x in specs if x != "-"] + [str(s.resolve(r)) for r in s.roots] + list(extra_roots or [])
    files, notes = expand_paths(specs, Roots.of(*roots), allow_stdin=True)
    if not files:
        first = next((n for n in notes if n.refused), None)
        named = "" if first else f" in {', '.join(specs[:3])}{' …' if len(specs) > 3 else ''}"
        raise NotFound(
            "no readable log files" + (f": {first.path}: {first.reason}" if first else named),
            (first.hint if first and first.hint else "check the paths; globs must match at least one file"),
        )
    return files, notes


def _rt(config: Any, now: str | None, json_output: bool) -> Runtime:
    return runtime(config=config, now=now, json=json_output)


def _now(rt: Runtime) -> datetime:
    # A log command reads at one instant: with --now, the pinned one itself (the replay clock
    # moves on with real time, and a window ending a few microseconds later gains a bucket).
    return rt.pinned_at or rt.clock()


def _to_now(since: str, until: str | None, at: datetime) -> tuple[datetime, datetime]:
    """The window, ending at now unless --until says earlier: lines stamped after now (a replay
    with --now, a clock ahead of ours) are not counted."""
    start, end = window(since, until, at)
    assert start is not None  # --since has a default
    end = end or at
    if end <= start:
        from incident.errors import UsageError

        raise UsageError("--since is not before now: the window is empty", "give an earlier --since (a duration such as 2h counts back from now)")
    return start, end


def _notes_json(notes: list[SourceNote]) -> list[dict[str, Any]]:
    return [n.model_dump(mode="json") for n in notes]


@logs_app.command("search", short_help="Search logs for a regex or text in a time window.")
def search_cmd(
    pattern: Annotated[str, typer.Argument(help="Regular expression (or text with --literal).", show_default=False)],
    paths: PathsArg = None,
    literal: Annotated[bool, typer.Option("--literal", "-F", help="Search the pattern as plain text.")] = False,
    since: SinceOption = None,
    until: UntilOption = None,
    context: Annotated[int, typer.Option("--context", "-C", metavar="N", min=0, max=20, help="Lines of context either side (0-20).")] = 0,
    max_hits: Annotated[int, typer.Option("--max", metavar="N", min=1, max=100000, help="Stop after this many hits.")] = 200,
    service: ServiceOption = None,
    root: RootOption = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
    now: NowOption = None,
) -> None:
    """Search logs (plain, rotated, .gz or stdin) for a regex or text, within a time window.

    \b
    Example:
      incident logs search 'SocketTimeout' /var/log/checkout/app.log --since 1h -C 3
    """
    from incident import render
    from incident.render import logs as out
    from incident.tools.logs import search

    rt = _rt(config, now, json_output)
    at = _now(rt)
    start, end = window(since, until, at)
    files, notes = _files(rt, paths, service, root)
    res = search(files, pattern, literal=literal, since=start, until=end, now=at, context=context, max_hits=max_hits)
    if json_output:
        render.print_json({"schema_version": 1, **res.model_dump(mode="json"), "sources": _notes_json(notes)})
        return
    out.source_notes(notes)
    out.search_result(res.hits, truncated=res.truncated, files=res.files_scanned, engine=res.engine, max_hits=max_hits)


@logs_app.command("timeline", short_help="Errors per minute as a chart: baseline, onset, deploys.")
def timeline_cmd(
    paths: PathsArg = None,
    since: Since2hOption = "2h",
    until: UntilOption = None,
    deploys: Annotated[str | None, typer.Option("--deploys", metavar="FILE", help="A deploy history file to mark on the chart.", show_default=False)] = None,
    deploys_format: Annotated[
        str | None,
        typer.Option("--deploys-format", metavar="FORMAT", help="Its format: jsonl, csv, helm, argocd, heroku, github or flux (default: detected).", show_default=False),
    ] = None,
    width: WidthOption = 60,
    service: ServiceOption = None,
    root: RootOption = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
    now: NowOption = None,
) -> None:
    """Errors per minute with the baseline, the onset and whether it is still elevated, as a chart.

    \b
    Example:
      incident logs timeline '/var/log/checkout/*.log' --since 3h --deploys deploys.jsonl
    """
    from incident import render
    from incident.render import logs as out
    from incident.tools.timeline import error_timeline

    rt = _rt(config, now, json_output)
    at = _now(rt)
    start, end = _to_now(since, until, at)
    files, notes = _files(rt, paths, service, root)
    with out.progress("scanning logs", enabled=not json_output) as tick:
        tl = error_timeline(files, since=start, until=end, now=at, progress=tick)
    marks = _read_deploys(deploys, deploys_format, notes)
    if json_output:
        render.print_json({"schema_version": 1, "timeline": tl.model_dump(mode="json"),
                           "deploys": [d.model_dump(mode="json") for d in marks], "sources": _notes_json(notes)})
        return
    out.source_notes(notes)
    out.timeline_view(tl, marks, width=width)


@logs_app.command("latency", short_help="Request latency per minute: p50/p95/p99, baseline, onset.")
def latency_cmd(
    paths: PathsArg = None,
    since: Since2hOption = "2h",
    until: UntilOption = None,
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", metavar="PATH", help="Only this endpoint's requests (e.g. /api/checkout).", show_default=False)
    ] = None,
    width: WidthOption = 60,
    service: ServiceOption = None,
    root: RootOption = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
    now: NowOption = None,
) -> None:
    """Request durations per minute (p50/p95/p99), the baseline p95, the onset of a sustained rise
    and the endpoints that slowed. Durations come from access logs (nginx $request_time, Apache
    %D, ALB, Envoy/Istio, HAProxy) or fields such as duration_ms, latency, took, event.duration.

    \b
    Example:
      incident logs latency '/var/log/checkout/*.log' --since 3h
    """
    from datetime import timedelta

    from incident import render
    from incident.render import logs as out
    from incident.tools.latency import endpoint_latency, profile

    rt = _rt(config, now, json_output)
    at = _now(rt)
    start, end = _to_now(since, until, at)
    files, notes = _files(rt, paths, service, root)
    prof = profile(files, since=start, until=end, now=at, endpoint=endpoint)
    if prof.onset is not None and endpoint is None:
        prof.endpoints = endpoint_latency(files, split=prof.onset, since=max(start, prof.onset - timedelta(minutes=30)), until=end, now=at)
    if json_output:
        render.print_json({"schema_version": 1, "latency": prof.model_dump(mode="json"), "sources": _notes_json(notes)})
        return
    out.source_notes(notes)
    out.latency_view(prof, width=width)


def _read_deploys(path: str | None, fmt: str | None, notes: list[SourceNote]) -> list[Any]:
    if not path:
        return []
    from pathlib import Path

    from incident.models import SourceNote

    try:
        from incident.tools.deploys import read_deploys
    except ImportError:
        notes.append(SourceNote(kind="deploys", path=path, refused=True, reason="deploy reading is not available in this build"))
        return []
    return list(read_deploys(Path(path), fmt))


@logs_app.command("patterns", short_help="Cluster log lines into templates; mark new ones.")
def patterns_cmd(
    paths: PathsArg = None,
    since: SinceOption = None,
    until: UntilOption = None,
    level: Annotated[str, typer.Option("--level", metavar="LEVEL", help="Lowest level to include: any, warn or error.")] = "error",
    new_since: Annotated[
        str | None, typer.Option("--new-since", metavar="WHEN", help="Mark templates first seen at/after this time (same forms as --since).", show_default=False)
    ] = None,
    limit: Annotated[int, typer.Option("--limit", metavar="N", min=1, max=10000, help="How many templates to show.")] = 50,
    service: ServiceOption = None,
    root: RootOption = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
    now: NowOption = None,
) -> None:
    """Cluster log lines into templates (ids, numbers, IPs, paths masked), most frequent first.

    \b
    Example:
      incident logs patterns app.log --since 3h --new-since 14:10 --level warn
    """
    from incident import render
    from incident.errors import UsageError
    from incident.render import logs as out
    from incident.tools.patterns import mine_patterns

    if level not in ("any", "warn", "error"):
        raise UsageError(f"--level must be any, warn or error, not {level!r}", "--level warn includes warnings and errors; any includes every line")
    rt = _rt(config, now, json_output)
    at = _now(rt)
    start, end = window(since, until, at)
    fresh = when(new_since, "--new-since", at)
    files, notes = _files(rt, paths, service, root)
    pats = mine_patterns(files, since=start, until=end, now=at, level=level, new_since=fresh, limit=limit)  # type: ignore[arg-type]  # checked above
    if json_output:
        render.print_json({"schema_version": 1, "patterns": [p.model_dump(mode="json") for p in pats], "sources": _notes_json(notes)})
        return
    out.source_notes(notes)
    out.patterns_table(pats)
