"""The `incident` command line: Typer wiring and the composition root.

Commands live in `incident.commands.*` (wiring only); this module composes them and is the one
place where errors become a message, a hint and an exit code.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperGroup

from incident import __version__
from incident.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, IncidentError, UsageError


class _Group(TyperGroup):
    """Turns IncidentError (raised anywhere in the core) into stderr or JSON + an exit code."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]  # typer's vendored click Context
        # Kept before click consumes them: a parse error still needs to know --json was asked for.
        ctx.meta["incident.argv"] = [*getattr(ctx, "_protected_args", []), *ctx.args]
        try:
            return super().invoke(ctx)
        except IncidentError as e:
            _report(ctx, e)
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            # Start a fresh line: Ctrl-C usually lands in the middle of a prompt or a progress bar.
            _report(ctx, IncidentError("interrupted", _interrupt_hint(ctx), code="interrupted"), newline=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except ClickUsageError as e:
            if not _wants_json(ctx):
                raise
            # A flag or argument click refused: a --json caller still gets one JSON object.
            sub = e.ctx.command_path if e.ctx is not None else ctx.command_path
            _report(ctx, UsageError(e.format_message(), f"see `{sub} --help`"), force_json=True)
            raise typer.Exit(EXIT_USAGE) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except OSError as e:
            refused = _disk_refused(e)
            if refused is None or ctx.meta.get("incident.traceback") or os.environ.get("INCIDENT_TRACEBACK"):
                raise
            _report(ctx, refused)
            raise typer.Exit(refused.exit_code) from None
        except Exception as e:
            if ctx.meta.get("incident.traceback") or os.environ.get("INCIDENT_TRACEBACK"):
                raise
            _report(ctx, IncidentError(f"internal error: {e.__class__.__name__}: {e}", "rerun with --traceback and report it", code="internal"))
            raise typer.Exit(EXIT_FAILURE) from None


def _disk_refused(e: OSError) -> IncidentError | None:
    """A write the disk refused anywhere (evidence files, prompts, locks: not only the journal)
    is the operator's to fix, not an internal error; the journal keeps what was recorded."""
    import errno

    from incident.errors import StorageError

    if e.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM):
        return None
    where = f"{e.filename}: " if e.filename else ""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageError(f"{where}disk full ({e.strerror})", "free space and run the command again; what was recorded is kept (`incident triage --resume ID` continues a triage)")
    return StorageError(f"{where}cannot write ({e.strerror})", "use a writable --incidents-dir or fix the permissions")


def _wants_json(ctx: typer.Context) -> bool:
    """--json (or --format json) on the command line, even when click failed before the option's
    callback could note it."""
    if ctx.meta.get("incident.json"):
        return True
    args: list[str] = ctx.meta.get("incident.argv") or []
    return "--json" in args or "--format=json" in args or any(a == "--format" and b == "json" for a, b in zip(args, args[1:], strict=False))


def _interrupt_hint(ctx: typer.Context) -> str:
    if ctx.invoked_subcommand == "triage":
        ref = ctx.meta.get("incident.triage_id") or "last"
        return f"everything recorded so far is in the journal; continue with `incident triage --resume {ref}`"
    return "run the command again"


def _report(ctx: typer.Context, e: IncidentError, *, force_json: bool = False, newline: bool = False) -> None:
    from incident import render

    if force_json or ctx.meta.get("incident.json"):
        render.print_json({"schema_version": 1, "error": e.to_dict()})
    else:
        if newline:
            render.error_line("")
        render.error(e.message, e.hint)


app = typer.Typer(
    cls=_Group,
    name="incident",
    help="Incident runbook assistant: read-only triage (offline, or with Claude); every write is printed for you to run.\n\n"
    "\b\nStart here:\n"
    "  incident triage --example                       the bundled incident; no setup, no API key\n"
    "  incident init                                   .incident.yaml, runbooks/ and a CI check here\n"
    "  incident triage -s checkout --symptom \"500s\"    a real incident, from the configured evidence\n"
    "  incident note last \"EU customers only\"          a timestamped note, mid-incident\n\n"
    "Times (--since, --until, --started, --at): ISO 8601, HH:MM in UTC, or 90m / 2h / 1d back from now.\n\n"
    "\b\nExit codes: 0 ok · 1 a check failed · 2 bad input · 3 not found · 4 incident locked\n"
    "            5 disk refused a write · 6 engine unavailable · 130 interrupted",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        print(f"incident {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    traceback: bool = typer.Option(False, "--traceback", help="Show the full traceback of an unexpected error."),
) -> None:
    ctx.meta["incident.traceback"] = traceback


def _register() -> None:
    from incident.commands import evidence, journal_cmds, logs, reports, runbook, triage

    for module in (triage, journal_cmds, reports, evidence, logs, runbook):
        module.register(app)


_register()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
