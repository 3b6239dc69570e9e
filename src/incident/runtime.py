"""What every command needs: the merged settings and the clock (pinned by --now / INCIDENT_NOW)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from incident.clock import Clock, fixed_clock, parse_when, system_clock
from incident.config import Settings, incidents_dir, load_settings
from incident.journal import Workspace


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    json: bool = False
    pinned: bool = False  # the clock was pinned by --now / INCIDENT_NOW
    pinned_at: datetime | None = None  # the instant it was pinned at (the clock moves on from it)

    @property
    def workspace(self) -> Workspace:
        return Workspace(incidents_dir(self.settings), self.clock)


def runtime(
    *,
    config: Path | None = None,
    incidents: Path | None = None,
    now: str | None = None,
    json: bool = False,
    **overrides: Any,
) -> Runtime:
    settings = load_settings(config=config, overrides={"incidents_dir": str(incidents) if incidents else None, **overrides})
    value = now or os.environ.get("INCIDENT_NOW")
    pinned_at = parse_when(value) if value else None
    clock: Clock = fixed_clock(pinned_at) if pinned_at is not None else system_clock
    return Runtime(settings=settings, clock=clock, json=json, pinned=bool(value), pinned_at=pinned_at)
