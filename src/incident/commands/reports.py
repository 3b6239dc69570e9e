"""`incident postmortem | comms | status | mark`: what the journal says, for people to read."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from incident.commands.common import (
    WHEN_FORMS,
    ConfigOption,
    IncidentArg,
    IncidentsDirOption,
    JsonOption,
    NowOption,
    runtime,
    when,
)


def register(app: typer.Typer) -> None:
    app.command("postmortem", short_help="Write a blameless postmortem from the journal.")(postmortem)
    app.command("comms", short_help="Draft a status-page and a stakeholder update.")(comms)
    app.command("status", short_help="Where it stands; when the next update is due.")(status)
    app.command("mark", short_help="Record mitigated, recovered, resolved... at the real time.")(mark)


def postmortem(
    incident_id: IncidentArg,
    out: Annotated[Path | None, typer.Option("--out", "-o", metavar="FILE", help="Where to write the Markdown (default: postmortem.md in the incident folder).")] = None,
    template: Annotated[Path | None, typer.Option("--template", metavar="FILE", help="Your team's Jinja Markdown template (same context as the bundled one).")] = None,
    engine: Annotated[
        str, typer.Option("--engine", metavar="ENGINE", help="Who writes the narrative: offline (from the recorded facts), claude, or auto (claude if a key is set).")
    ] = "offline",
    json_output: JsonOption = False,
    config: ConfigOption = None,
    incidents_dir: IncidentsDirOption = None,
    now: NowOption = None,
) -> None:
    """Write a blameless postmortem from the incident's journal.

    Times come from recorded events; a fact the journal lacks is written as a visible TODO.
    The timeline table is always generated from events, whichever engine writes the prose.

    \b
    Example:
      incident postmortem last --out docs/postmortems/2026-11-21-checkout.md
    """
    from incident import render, report_jobs
    from incident.render import reports as out_

    rt = runtime(config=config, incidents=incidents_dir, now=now, json=json_output)
    journal = rt.workspace.open(incident_id)
    result = report_jobs.write_postmortem(
        journal, rt.settings, out=out, template=template, engine=engine,  # type: ignore[arg-type]  # validated in the job
        chart=out_.chart_text,
    )
    if json_output:
        render.print_json(result.model_dump(mode="json"))
    else:
        out_.postmortem_written(result)


def comms(
    incident_id: IncidentArg,
    kind: Annotated[str | None, typer.Option("--kind", metavar="KIND", help="initial, update or resolved (default: from the incident's state).")] = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
    incidents_dir: IncidentsDirOption = None,
    now: NowOption = None,
) -> None:
    """Draft a status-page update and a stakeholder update; record when it was drafted.

    States what is broken, who is affected, what is being done and when the next update comes
    (by severity: SEV-1 every 15 min, SEV-2 30, SEV-3 60; `comms_cadence_minutes` in config).
    Never an ETA to fix, never a guess at the cause.

    \b
    Example:
      incident comms last --kind update
    """
    from incident import render, report_jobs
    from incident.render import reports as out_

    rt = runtime(config=config, incidents=incidents_dir, now=now, json=json_output)
    journal = rt.workspace.open(incident_id)
    draft = report_jobs.comms(journal, rt.settings, kind=kind, now=rt.clock())
    if json_output:
        render.print_json(draft.model_dump(mode="json"))
    else:
        out_.comms_draft(draft)


def status(
    incident_id: IncidentArg,
    json_output: JsonOption = False,
    config: ConfigOption = None,
    incidents_dir: IncidentsDirOption = None,
    now: NowOption = None,
) -> None:
    """Where the incident stands, and when the next stakeholder update is due (or how overdue).

    \b
    Example:
      incident status last
    """
    from incident import render, report_jobs
    from incident.render import reports as out_

    rt = runtime(config=config, incidents=incidents_dir, now=now, json=json_output)
    report = report_jobs.incident_status(rt.workspace.open(incident_id), rt.settings, now=rt.clock())
    if json_output:
        render.print_json(report.model_dump(mode="json"))
    else:
        out_.status_report(report)


def mark(
    incident_id: IncidentArg,
    status_: Annotated[
        str, typer.Argument(metavar="STATUS", help="alerted, mitigated, recovered, fix-deployed, resolved or reopened.", show_default=False)
    ],
    at: Annotated[str | None, typer.Option("--at", metavar="WHEN", help=f"When it happened, if not now: {WHEN_FORMS}; '20m ago' also works.")] = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
    incidents_dir: IncidentsDirOption = None,
    now: NowOption = None,
) -> None:
    """Record a point on the incident's timeline, at the time it really happened.

    \b
    Example:
      incident mark last recovered --at 14:47
    """
    from incident import render, report_jobs
    from incident.render import reports as out_

    rt = runtime(config=config, incidents=incidents_dir, now=now, json=json_output)
    journal = rt.workspace.open(incident_id)
    when(at, "--at", rt.clock())
    ev = report_jobs.mark_status(journal, status_, at=at, now=rt.clock())
    if json_output:
        render.print_json({"schema_version": 1, "incident_id": journal.id, "recorded": "status.changed", **ev.payload, "recorded_at": ev.at})
    else:
        out_.marked(journal.id, ev)
