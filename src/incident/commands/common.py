"""Options shared by commands (Annotated aliases) and the runtime they build.

Nothing heavy is imported here: this module is on the `incident --help` path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from incident.clock import Clock, fixed_clock, parse_when, system_clock
from incident.config import Settings, incidents_dir, load_settings
from incident.journal import Workspace


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


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    json: bool = False

    @property
    def workspace(self) -> Workspace:
        return Workspace(incidents_dir(self.settings), self.clock)


def make_clock(now: str | None) -> Clock:
    value = now or os.environ.get("INCIDENT_NOW")
    if not value:
        return system_clock
    return fixed_clock(parse_when(value))


def runtime(
    *,
    config: Path | None = None,
    incidents: Path | None = None,
    now: str | None = None,
    json: bool = False,
    **overrides: Any,
) -> Runtime:
    settings = load_settings(config=config, overrides={"incidents_dir": str(incidents) if incidents else None, **overrides})
    return Runtime(settings=settings, clock=make_clock(now), json=json)
