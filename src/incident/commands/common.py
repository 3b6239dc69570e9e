"""Options shared by commands (Annotated aliases) and the runtime they build.

Nothing heavy is imported here: this module is on the `incident --help` path.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from incident.runtime import Runtime


def _mark_json(ctx: typer.Context, value: bool) -> bool:
    # The error handler in cli.py reads this to answer errors in JSON too.
    ctx.meta["incident.json"] = bool(value)
    return value


JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.", callback=_mark_json)]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Config file (default: .incident.yaml found from here upwards).", show_default=False)
]
IncidentsDirOption = Annotated[
    Path | None,
    typer.Option("--incidents-dir", help="Where incident folders live [env INCIDENT_HOME; default .incidents/].", show_default=False),
]
NowOption = Annotated[
    str | None,
    typer.Option("--now", help="Pin the clock (ISO 8601) to replay a past incident [env INCIDENT_NOW].", show_default=False),
]
IncidentArg = Annotated[str, typer.Argument(help="Incident id (a unique prefix or `last` also works).", show_default=False)]
SinceOption = Annotated[str | None, typer.Option("--since", help="Start: ISO 8601, HH:MM (UTC) or a duration such as 2h.", show_default=False)]
UntilOption = Annotated[str | None, typer.Option("--until", help="End (same forms). Default: now.", show_default=False)]
ServiceOption = Annotated[
    str | None, typer.Option("--service", "-s", help="A service from .incident.yaml (its repo, logs, deploy sources).", show_default=False)
]
RootOption = Annotated[list[str] | None, typer.Option("--root", help="Another directory that may be read (repeatable).", show_default=False)]


def runtime(**kwargs: Any) -> Runtime:
    """Settings + clock for a command (imported here, not at start-up: pydantic models are slow)."""
    from incident.runtime import runtime as build

    return build(**kwargs)


__all__ = ["runtime", "SinceOption", "UntilOption", "ServiceOption", "RootOption", "JsonOption", "ConfigOption", "IncidentsDirOption", "NowOption", "IncidentArg"]
