"""`incident new | list | show | note | timeline`: the journal at the operator's fingertips."""

from __future__ import annotations

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
    app.command("new", short_help="Open an incident and print its id.")(new)
    app.command("list", short_help="List incidents, newest first.")(list_)
    app.command("show", short_help="An incident's current state.")(show)
    app.command("note", short_help="Add a timestamped note (the fastest thing mid-incident).")(note)
    app.command("timeline", short_help="Every recorded event of an incident, in order.")(timeline)


def new(
    title: Annotated[str | None, typer.Argument(help="Short title, e.g. 'checkout 500s'.", show_default=False)] = None,
    service: Annotated[str | None, typer.Option("--service", "-s", metavar="NAME", help="Affected service.")] = None,
    symptom: Annotated[str | None, typer.Option("--symptom", metavar="TEXT", help="What users see.")] = None,
    started: Annotated[str | None, typer.Option("--started", metavar="WHEN", help=f"When it started: {WHEN_FORMS}.")] = None,
    severity: Annotated[str | None, typer.Option("--severity", metavar="SEV-N", help="SEV-1 (worst) .. SEV-4, if already known.")] = None,
    alert: Annotated[str | None, typer.Option("--alert", metavar="NAME", help="The alert name that fired.")] = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
    incidents_dir: IncidentsDirOption = None,
    now: NowOption = None,
) -> None:
    """Open an incident and print its id.

    \b
    Example:
      incident new "checkout 500s" --service checkout --started 14:33
    """
    from incident import incidents, render

    rt = runtime(config=config, incidents=incidents_dir, now=now, json=json_output)
    when(started, "--started", rt.clock())
    j = incidents.new_incident(rt.workspace, title=title, service=service, symptom=symptom, started=started, severity=severity, alert=alert)
    if json_output:
        render.print_json({"schema_version": 1, "incident_id": j.id, "path": str(j.folder)})
    else:
        render.info(j.id)


def list_(
    json_output: JsonOption = False,
    config: ConfigOption = None,
    incidents_dir: IncidentsDirOption = None,
) -> None:
    """List incidents, newest first."""
    from incident import incidents, render
    from incident.render import journal as out

    rt = runtime(config=config, incidents=incidents_dir, json=json_output)
    rows = incidents.list_incidents(rt.workspace)
    if json_output:
        render.print_json({"schema_version": 1, "incidents": rows})
    else:
        out.incident_list(rows)


def show(
    incident_id: IncidentArg,
    json_output: JsonOption = False,
    config: ConfigOption = None,
    incidents_dir: IncidentsDirOption = None,
) -> None:
    """Show an incident's current state (folded from its journal).

    \b
    Example:
      incident show last --json | jq .status
    """
    from incident import incidents, render
    from incident.render import journal as out

    rt = runtime(config=config, incidents=incidents_dir, json=json_output)
    state, warnings = incidents.show(rt.workspace.open(incident_id))
    if json_output:
        render.print_json({**state, "warnings": warnings})
    else:
        out.incident_show(state, warnings)


def note(
    incident_id: IncidentArg,
    text: Annotated[str, typer.Argument(help="The note. Quote it.", show_default=False)],
    author: Annotated[str | None, typer.Option("--author", metavar="NAME", help="Who is noting (optional).")] = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
    incidents_dir: IncidentsDirOption = None,
    now: NowOption = None,
) -> None:
    """Add a timestamped note to an incident — the fastest thing to do mid-incident.

    \b
    Example:
      incident note last "support reports EU customers only"
    """
    from incident import incidents, render
    from incident.clock import iso
    from incident.render import journal as out

    rt = runtime(config=config, incidents=incidents_dir, now=now, json=json_output)
    journal = rt.workspace.open(incident_id)
    ev = incidents.add_note(journal, text, author=author)
    if json_output:
        render.print_json({"schema_version": 1, "incident_id": journal.id, "recorded": "note", "at": iso(ev.at)})
    else:
        out.recorded("note", journal.id, ev.at)


def timeline(
    incident_id: IncidentArg,
    since: Annotated[str | None, typer.Option("--since", metavar="WHEN", help=f"Only events at/after this time: {WHEN_FORMS}.")] = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
    incidents_dir: IncidentsDirOption = None,
) -> None:
    """Every recorded event of an incident, in order (UTC).

    \b
    Example:
      incident timeline last --since 1h
    """
    from incident import incidents, render
    from incident.render import journal as out

    rt = runtime(config=config, incidents=incidents_dir, json=json_output)
    journal = rt.workspace.open(incident_id)
    rows, warnings = incidents.timeline_rows(journal, since=when(since, "--since", rt.clock()))
    if json_output:
        render.print_json({"schema_version": 1, "incident_id": journal.id, "events": rows, "warnings": warnings})
    else:
        out.timeline(rows, warnings)
