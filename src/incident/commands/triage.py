"""`incident triage` and `incident prompt`: the main job, wired."""

from __future__ import annotations

import sys
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

ENGINES = ("auto", "offline", "claude", "scripted")

EngineOption = Annotated[
    str,
    typer.Option(
        "--engine", metavar="ENGINE",
        help="auto (claude when ANTHROPIC_API_KEY is set, else offline), offline, claude, or scripted (with --scripted).",
    ),
]


def register(app: typer.Typer) -> None:
    app.command("triage", short_help="Walk an incident through the seven phases (start here).")(triage)
    app.command("prompt", short_help="Print a phase's prompt, to paste into any chat assistant.")(prompt)


def triage(
    ctx: typer.Context,
    service: Annotated[str | None, typer.Option("--service", "-s", metavar="NAME", help="Affected service (a name from .incident.yaml picks its repo, logs and deploys).")] = None,
    symptom: Annotated[str | None, typer.Option("--symptom", metavar="TEXT", help="What users see, e.g. '500s on /api/checkout'.")] = None,
    title: Annotated[str | None, typer.Option("--title", metavar="TEXT", help="Incident title (default: service + symptom).")] = None,
    alert: Annotated[str | None, typer.Option("--alert", metavar="NAME", help="The alert that fired (used to match runbooks).")] = None,
    started: Annotated[str | None, typer.Option("--started", metavar="WHEN", help=f"When it started, if known: {WHEN_FORMS}.")] = None,
    repo: Annotated[Path | None, typer.Option("--repo", metavar="DIR", help="The service's git repo (default: from config, or here).")] = None,
    deploys: Annotated[
        list[Path] | None,
        typer.Option(
            "--deploys", metavar="PATH",
            help="Deploy history file, glob, or repo for git-tags (repeatable; formats may differ). Default: the service's from config, "
            "else the sources of the runbook matched by service or alert (read only inside the read roots).",
        ),
    ] = None,
    deploys_format: Annotated[
        list[str] | None,
        typer.Option(
            "--deploys-format", metavar="FORMAT",
            help="jsonl, csv, helm, argocd, heroku, github, flux, git-tags or auto (the default: detect each file). "
            "Once: every source. Once per --deploys: the Nth names the Nth, e.g. "
            "--deploys helm.json --deploys-format helm --deploys deploys.csv --deploys-format auto.",
        ),
    ] = None,
    logs: Annotated[
        list[str] | None, typer.Option("--logs", metavar="GLOB", help="Log file or glob, quoted (repeatable; .gz and rotated files too).")
    ] = None,
    runbooks: Annotated[list[Path] | None, typer.Option("--runbooks", metavar="PATH", help="Runbook file or directory (repeatable).")] = None,
    root: Annotated[list[Path] | None, typer.Option("--root", metavar="DIR", help="Extra directory the tools may read (repeatable).")] = None,
    engine: EngineOption = "auto",
    scripted: Annotated[Path | None, typer.Option("--scripted", metavar="DIR", help="Recorded answers (<phase>.json) for --engine scripted.")] = None,
    model: Annotated[str | None, typer.Option("--model", metavar="NAME", help="Claude model [env INCIDENT_MODEL].")] = None,
    severity: Annotated[
        str | None, typer.Option("--severity", metavar="SEV-N", help="SEV-1 (worst) .. SEV-4, if already decided (skips the question).")
    ] = None,
    example: Annotated[bool, typer.Option("--example", help="Triage the bundled example incident (built in a temp dir).")] = False,
    resume: Annotated[
        str | None, typer.Option("--resume", metavar="ID", help="Continue the triage of this incident (id, prefix or `last`) from its last finished phase.")
    ] = None,
    take_over: Annotated[bool, typer.Option("--take-over", help="Take over the lock of a triage that is no longer running.")] = False,
    non_interactive: Annotated[bool, typer.Option("--non-interactive", help="Ask nothing; run every phase (automatic without a TTY).")] = False,
    json_output: JsonOption = False,
    config: ConfigOption = None,
    incidents_dir: IncidentsDirOption = None,
    now: NowOption = None,
) -> None:
    """Walk an incident through classify → assess → contain → diagnose → fix → verify → review.

    Reads git history, deploy history and logs (read-only); every write action is printed as a
    command for you to run. Without an API key the offline engine answers every phase.

    \b
    Example:
      incident triage --service checkout --symptom "500s on /api/checkout" --logs 'logs/*.log' --deploys deploys.json
    """
    from incident import render
    from incident import triage as triage_core
    from incident.render import triage as out

    rt = runtime(config=config, incidents=incidents_dir, now=now, json=json_output, engine=None)
    severity = _check_choices(engine, severity)
    when(started, "--started", rt.clock())
    if resume:
        ctx.meta["incident.triage_id"] = resume  # what a Ctrl-C tells the operator to resume
    interactive = not (non_interactive or json_output) and sys.stdin.isatty() and sys.stdout.isatty()
    ui = None if json_output else out.make_ui(interactive=interactive)
    try:
        result = triage_core.run(
            rt,
            service=service, symptom=symptom, title=title, alert=alert, started=started, repo=repo,
            deploys=deploys or [], deploys_format=deploys_format or [], logs=logs or [], runbooks=runbooks or [],
            roots=root or [], engine=engine, scripted=scripted, model=model, severity=severity,
            example=example, resume=resume, take_over=take_over, ui=ui,
        )
    except KeyboardInterrupt:
        if ui is not None and ui.incident_id:
            ctx.meta["incident.triage_id"] = ui.incident_id
        raise
    if json_output:
        render.print_json(result.contract())
    else:
        out.finished(result, cadence=rt.settings.comms_cadence_minutes, now=rt.clock())


def _check_choices(engine: str, severity: str | None) -> str | None:
    """Refuse a misspelt --engine or --severity here, with the choices, rather than deep inside."""
    from incident.errors import UsageError

    if engine not in ENGINES:
        raise UsageError(f"unknown --engine {engine!r}", f"use one of: {', '.join(ENGINES)}")
    if severity is None:
        return None
    import re

    # What people type at 3 a.m.: SEV-2, sev2, 2.
    m = re.fullmatch(r"(?:sev)?[-_ ]?([1-4])", severity.strip(), re.IGNORECASE)
    if m is None:
        raise UsageError(f"unknown --severity {severity!r}", "use SEV-1 (worst), SEV-2, SEV-3 or SEV-4")
    return f"SEV-{m.group(1)}"


def prompt(
    incident_id: IncidentArg,
    phase: Annotated[str, typer.Argument(help="classify, assess, contain, diagnose, fix, verify or review.", show_default=False)],
    json_output: JsonOption = False,
    config: ConfigOption = None,
    incidents_dir: IncidentsDirOption = None,
) -> None:
    """Print the prompt a phase was given (redacted), to paste into any chat assistant.

    \b
    Example:
      incident prompt last assess | pbcopy
    """
    from incident import render
    from incident import triage as triage_core

    rt = runtime(config=config, incidents=incidents_dir, json=json_output)
    text = triage_core.stored_prompt(rt.workspace.open(incident_id), phase)
    if json_output:
        render.print_json({"schema_version": 1, "phase": phase, "prompt": text})
    else:
        # The prompt quotes logs and commit messages: their escape sequences must not reach a
        # terminal (or a clipboard) raw. A chat assistant needs none of them.
        text = render.clean(text)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
