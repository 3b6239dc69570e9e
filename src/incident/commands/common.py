"""Options shared by commands (Annotated aliases) and the runtime they build.

Nothing heavy is imported here: this module is on the `incident --help` path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from datetime import datetime

    from incident.runtime import Runtime


def _mark_json(ctx: typer.Context, value: bool) -> bool:
    # The error handler in cli.py reads this to answer errors in JSON too.
    ctx.meta["incident.json"] = bool(value)
    return value


# The forms every time option accepts, said once so each --help says the same.
WHEN_FORMS = "ISO 8601 (2026-11-21T14:30Z), HH:MM in UTC (its last occurrence), or a duration back from now (90m, 2h, 1d)"

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout (errors too), with a schema_version.", callback=_mark_json)
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", metavar="FILE", help="Config file (default: .incident.yaml found from here upwards).", show_default=False),
]
IncidentsDirOption = Annotated[
    Path | None,
    typer.Option("--incidents-dir", metavar="DIR", help="Where incident folders live [env INCIDENT_HOME; default .incidents/].", show_default=False),
]
NowOption = Annotated[
    str | None,
    typer.Option(
        "--now", metavar="ISO-TIME",
        help="Pin the clock to replay a past incident, e.g. 2026-11-21T14:40:00Z (no offset means UTC) [env INCIDENT_NOW].",
        show_default=False,
    ),
]
IncidentArg = Annotated[str, typer.Argument(help="Incident id (a unique prefix or `last` also works).", show_default=False)]
SinceOption = Annotated[str | None, typer.Option("--since", metavar="WHEN", help=f"Start: {WHEN_FORMS}.", show_default=False)]
UntilOption = Annotated[str | None, typer.Option("--until", metavar="WHEN", help="End (same forms as --since). Default: now.", show_default=False)]
ServiceOption = Annotated[
    str | None,
    typer.Option("--service", "-s", metavar="NAME", help="A service from .incident.yaml (its repo, logs, deploy sources).", show_default=False),
]
RootOption = Annotated[
    list[str] | None, typer.Option("--root", metavar="DIR", help="Another directory that may be read (repeatable).", show_default=False)
]


def runtime(**kwargs: Any) -> Runtime:
    """Settings + clock for a command (imported here, not at start-up: pydantic models are slow)."""
    from incident.runtime import runtime as build

    check_now(kwargs.get("now"))
    rt = build(**kwargs)
    if "incidents" in kwargs:
        _check_incidents_dir(rt)
    return rt


def check_now(flag: str | None) -> None:
    """--now takes only an absolute time (a relative one has nothing to be relative to); say
    which of the flag and INCIDENT_NOW was wrong, with the form that works."""
    from incident.clock import parse_when
    from incident.errors import UsageError

    value, where = (flag, "--now") if flag else (os.environ.get("INCIDENT_NOW"), "INCIDENT_NOW")
    if not value:
        return
    try:
        parse_when(value)
    except UsageError:
        raise UsageError(
            f"{where}: cannot read time {value!r}", "give a full ISO 8601 time such as 2026-11-21T14:40:00Z (no offset means UTC); not a duration or HH:MM"
        ) from None


def _check_incidents_dir(rt: Runtime) -> None:
    from incident.config import incidents_dir
    from incident.errors import UsageError

    folder = incidents_dir(rt.settings)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file, not a folder of incidents", "point --incidents-dir (or INCIDENT_HOME, incidents_dir: in config) at a directory")


def when(value: str | None, flag: str, now: datetime) -> datetime | None:
    """An operator-given time, read like every other; a bad one names the flag it came from."""
    if value is None:
        return None
    from incident.clock import parse_when
    from incident.errors import UsageError

    try:
        return parse_when(value, now=now)
    except UsageError as e:
        raise UsageError(f"{flag}: {e.message}", e.hint) from None


def window(since: str | None, until: str | None, now: datetime) -> tuple[datetime | None, datetime | None]:
    """--since/--until read together: an end before the start is a typo, not an empty answer."""
    from incident.clock import iso
    from incident.errors import UsageError

    start, end = when(since, "--since", now), when(until, "--until", now)
    if start is not None and end is not None and end < start:
        raise UsageError(f"--until {iso(end)} is before --since {iso(start)}", "swap them, or give --since the earlier time")
    return start, end


__all__ = ["runtime", "check_now", "when", "window", "WHEN_FORMS", "SinceOption", "UntilOption", "ServiceOption", "RootOption", "JsonOption", "ConfigOption", "IncidentsDirOption", "NowOption", "IncidentArg"]
