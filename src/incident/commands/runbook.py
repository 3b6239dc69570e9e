"""`incident runbook check | dry-run | list | schema` and `incident init`: runbooks as code, wired."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from incident.commands.common import ConfigOption, JsonOption, NowOption, check_now, runtime

runbook_app = typer.Typer(
    name="runbook",
    help="Runbooks as code: check them (in CI too), prove them on recorded incidents, list them.",
    short_help="Runbooks as code: check, dry-run, list, schema.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    app.add_typer(runbook_app, name="runbook")
    app.command("init", short_help="Scaffold .incident.yaml, runbooks/, INCIDENT.md and a CI check.")(init)


class CheckFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


def _format_json(ctx: typer.Context, value: CheckFormat) -> CheckFormat:
    ctx.meta["incident.json"] = value == CheckFormat.json  # errors answer in JSON too
    return value


PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Runbook files or directories (default: the `runbooks` directories in config).", show_default=False),
]
JunitOption = Annotated[Path | None, typer.Option("--junit", metavar="FILE", help="Also write a JUnit XML report to FILE.", show_default=False)]


def _paths(rt: object, paths: list[Path] | None) -> list[Path]:
    if paths:
        return list(paths)
    settings = rt.settings  # type: ignore[attr-defined]
    return [settings.resolve(p) for p in settings.runbooks]


@runbook_app.command("check", short_help="Validate runbooks (CI-friendly: --format github, --junit).")
def check(
    paths: PathsArg = None,
    fmt: Annotated[
        CheckFormat, typer.Option("--format", help="text, json, or github (Actions annotations).", callback=_format_json)
    ] = CheckFormat.text,
    junit: JunitOption = None,
    no_prompts: Annotated[bool, typer.Option("--no-prompts", help="Skip rendering the phase prompts with each runbook.")] = False,
    config: ConfigOption = None,
    now: NowOption = None,
) -> None:
    """Validate runbooks: schema (file:line:col), placeholders, rendering, shell parsing,
    destructive commands marked, prompts, freshness, duplicate ids, overlapping matches,
    verify patterns (runnable; a check no log source feeds is a warning).

    Exits 1 when any error is found (warnings do not fail).

    \b
    Example:
      incident runbook check runbooks/ --format github --junit runbook-check.xml
    """
    from incident import render
    from incident.render import runbook as out
    from incident.runbook_check import check_runbooks, github_annotations, junit_xml

    rt = runtime(config=config, now=now, json=fmt == CheckFormat.json)
    report = check_runbooks(
        _paths(rt, paths), today=rt.clock().date(), stale_days=rt.settings.runbook_stale_days, prompts=not no_prompts,
        settings=rt.settings,
    )
    if junit is not None:
        _write(junit, junit_xml(report))
    if fmt == CheckFormat.json:
        render.print_json(report.summary())
    elif fmt == CheckFormat.github:
        out.lines(github_annotations(report, relative_to=Path.cwd()))
        out.lines([f"{len(report.runbooks)} runbook(s): {report.errors} error(s), {report.warnings} warning(s)"])
    else:
        out.check_text(report)
    if not report.ok:
        raise typer.Exit(1)


def _write(path: Path, text: str) -> None:
    from incident.errors import StorageError

    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise StorageError(f"cannot write {path}: {e.strerror or e}", "check the directory exists and is writable") from None


@runbook_app.command("list", short_help="List runbooks, or the ones that match a service/alert/symptom.")
def list_(
    paths: PathsArg = None,
    service: Annotated[str | None, typer.Option("--service", "-s", metavar="NAME", help="Show only runbooks matching this service.")] = None,
    alert: Annotated[str | None, typer.Option("--alert", metavar="NAME", help="... this alert name.")] = None,
    symptom: Annotated[str | None, typer.Option("--symptom", metavar="TEXT", help="... this symptom text.")] = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """List runbooks and their match rules; with --service/--alert/--symptom, the ones that
    match and why, best first (what the triage would pick).

    \b
    Example:
      incident runbook list --service checkout --symptom "500s after deploy"
    """
    from incident import render
    from incident.render import runbook as out
    from incident.runbooks import load_runbooks, match_runbooks

    rt = runtime(config=config, json=json_output)
    runbooks, problems = load_runbooks(_paths(rt, paths))
    notes = [f"{p.where()}: {p.message}" for p in problems if p.severity == "error"]
    matching = bool(service or alert or symptom)
    rows = []
    if matching:
        for m in match_runbooks(runbooks, service=service, alert=alert, symptom=symptom):
            rows.append({"score": m.score, "id": m.runbook.id, "reasons": m.reasons, "title": m.runbook.title, "file": m.runbook.file})
    else:
        for rb in runbooks:
            rows.append(
                {
                    "id": rb.id, "title": rb.title, "owner": rb.owner, "reviewed_at": rb.reviewed_at.isoformat(),
                    "match": rb.match.model_dump(), "mitigations": [m.kind for m in rb.mitigations], "file": rb.file,
                }
            )
    if json_output:
        render.print_json({"schema_version": 1, "runbooks": rows, "problems": notes})
    else:
        out.runbook_list(rows, notes, matching=matching)


@runbook_app.command("schema", short_help="Print the runbook JSON Schema (for editors).")
def schema() -> None:
    """Print the runbook JSON Schema (for editors: yaml-language-server, VS Code).

    \b
    Example:
      incident runbook schema > runbook.schema.json
    """
    from incident import render
    from incident.runbooks import json_schema

    render.print_json(json_schema())


@runbook_app.command("dry-run", short_help="Prove a runbook against a recorded incident.")
def dry_run(
    runbook: Annotated[Path, typer.Argument(help="The runbook file (or a directory of runbooks) to prove.", show_default=False)],
    scenario: Annotated[Path, typer.Option("--scenario", metavar="DIR", help="Recorded scenario folder (repo, deploys, logs, expect.yaml).", show_default=False)],
    engine: Annotated[str, typer.Option("--engine", metavar="ENGINE", help="offline, or scripted (replays scenario/scripted/).")] = "offline",
    tolerance: Annotated[float | None, typer.Option("--tolerance", metavar="MINUTES", help="Onset tolerance in minutes (default: expect.yaml, else 2).")] = None,
    junit: JunitOption = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Run the whole triage against a recorded incident, non-interactively, and check it finds
    the expected onset, suspect change, rollback target and proposes the runbook's vetted
    commands. Nothing is executed. Exits 1 when an expectation is not met.

    \b
    Example:
      incident runbook dry-run runbooks/checkout-deploy.yaml --scenario scenarios/bad-deploy
    """
    from incident import render
    from incident.dryrun import dry_run as run
    from incident.dryrun import junit_xml
    from incident.render import runbook as out

    rt = runtime(config=config, json=json_output)
    report = run(runbook, scenario, engine=engine, settings=rt.settings, tolerance_minutes=tolerance, clock=rt.clock)
    if junit is not None:
        _write(junit, junit_xml(report))
    if json_output:
        render.print_json(report.model_dump(mode="json"))
    else:
        out.dry_run(report)
    if not report.passed:
        raise typer.Exit(1)


def init(
    directory: Annotated[Path, typer.Argument(help="The team repo to scaffold (default: here).")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that already exist.")] = False,
    json_output: JsonOption = False,
    now: NowOption = None,
) -> None:
    """Scaffold a team repo: .incident.yaml, runbooks/ with an example, INCIDENT.md, a CI
    workflow that checks the runbooks, and a read-only triage skill for coding agents.

    Never overwrites an existing file unless --force is given.

    \b
    Example:
      incident init . && incident runbook check runbooks/
    """
    import os

    from incident import render
    from incident.clock import parse_when, system_clock
    from incident.render import runbook as out
    from incident.scaffold import scaffold

    check_now(now)
    pinned = now or os.environ.get("INCIDENT_NOW")
    # No settings are loaded: init must work where no (or a broken) .incident.yaml exists.
    result = scaffold(directory, force=force, today=(parse_when(pinned) if pinned else system_clock()).date())
    if json_output:
        render.print_json({"schema_version": 1, "root": result.root, "files": result.files})
    else:
        out.init_result(result.files, result.root)
