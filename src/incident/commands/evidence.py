"""`incident changes` and `incident deploys`: what changed, at the operator's fingertips.

The read roots are the paths named here (by flag or in `.incident.yaml`) plus config `roots` and
any `--root`; nothing else is read.
"""

from __future__ import annotations

from pathlib import Path
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
    window,
)

if TYPE_CHECKING:
    from incident.config import Settings
    from incident.models import Deploy, SourceNote


def register(app: typer.Typer) -> None:
    app.command("changes", short_help="Recent commits in the service repo, with the files they touched.")(changes)
    app.command("deploys", short_help="Deploy history (helm, Argo CD, Heroku, GitHub, logs, tags), normalised.")(deploys)


def _roots(settings: Settings, named: list[str], extra: list[str] | None) -> Any:
    from incident.tools.base import Roots

    return Roots.of(*named, *(str(settings.resolve(r)) for r in settings.roots), *(extra or []))


def _refused(e: Any) -> Exception:
    from incident.errors import NotFound, UsageError

    if e.reason == "does not exist":
        return NotFound(f"{e.path}: does not exist", "check the path")
    return UsageError(f"{e.path}: {e.reason}", e.hint)


def changes(
    repo: Annotated[Path | None, typer.Option("--repo", metavar="DIR", help="The service repository (default: the service's repo from config, else here).", show_default=False)] = None,
    since: Annotated[str, typer.Option("--since", metavar="WHEN", help=f"Start: {WHEN_FORMS}.")] = "24h",
    until: UntilOption = None,
    max_count: Annotated[int, typer.Option("-n", "--max-count", metavar="N", min=1, max=10_000, help="At most this many commits (1-10000).")] = 50,
    path: Annotated[list[str] | None, typer.Option("--path", metavar="PATH", help="Only commits touching this path (repeatable).", show_default=False)] = None,
    service: ServiceOption = None,
    root: RootOption = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
    now: NowOption = None,
) -> None:
    """Recent commits on the repository's checked-out branch, newest first, with the files they touched.

    \b
    Example:
      incident changes --repo ~/src/checkout --since 3h --path src/payments
    """
    from incident import render
    from incident.clock import iso
    from incident.render import evidence as out
    from incident.tools import git
    from incident.tools.base import PathRefused

    rt = runtime(config=config, now=now, json=json_output)
    s = rt.settings
    if repo is None:
        svc = s.service(service)
        repo = s.resolve(svc.repo) if svc is not None and svc.repo else Path.cwd()
    start, end = window(since, until, rt.clock())
    assert start is not None  # --since has a default
    try:
        checked = _roots(s, [str(repo)], root).check(repo, want="dir")
    except PathRefused as e:
        raise _refused(e) from None
    note = ""
    try:
        commits = git.recent_commits(checked, since=start, until=end, max_count=max_count, paths=path or None)
    except git.GitUnavailable as e:
        if e.problem != "empty":
            raise
        commits, note = [], e.message
    if json_output:
        render.print_json({"schema_version": 1, "repo": str(checked), "since": iso(start), "until": iso(end),
                           "commits": [c.model_dump(mode="json") for c in commits], "note": note or None})  # fmt: skip
        return
    out.commits_table(str(checked), commits, start, end, note=note, limit=max_count)


def _sources(s: Settings, paths: list[str], formats: list[str], service: str | None) -> list[tuple[str, str | None, str | None]]:
    """(path, format, repo) for each deploy source: those named, or the service's from config."""
    from incident.errors import UsageError
    from incident.request_sources import choose_deploys

    svc = s.service(service)
    repo = str(s.resolve(svc.repo)) if svc is not None and svc.repo else None
    if not paths and (svc is None or not svc.deploys):
        named = f" for service {service!r}" if service else ""
        raise UsageError(f"no deploy history given{named}", "name a file (incident deploys deploys.jsonl) or set `deploys:` for the service in .incident.yaml")
    chosen = choose_deploys(s, svc, Path(repo) if repo else None, paths, formats)
    # A path named here is shown as typed; the format is looked up by its resolved form.
    shown = paths or [str(p) for p in chosen.paths]
    return [(raw, chosen.formats.get(str(p)), repo) for raw, p in zip(shown, chosen.paths, strict=True)]


def deploys(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Deploy history files or globs, of any mix of formats (default: the service's deploy sources from config).", show_default=False),
    ] = None,
    deploys_format: Annotated[
        list[str] | None,
        typer.Option(
            "--deploys-format",
            metavar="FORMAT",
            help="jsonl, csv, helm, argocd, heroku, github, flux, git-tags or auto (the default: detect each file). Once: every file. "
            "Once per file: the Nth names the Nth (auto to detect one).",
            show_default=False,
        ),
    ] = None,
    service: ServiceOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    max_count: Annotated[int, typer.Option("-n", "--max-count", metavar="N", min=1, max=100_000, help="Show the most recent N (1-100000).")] = 50,
    root: RootOption = None,
    json_output: JsonOption = False,
    config: ConfigOption = None,
    now: NowOption = None,
) -> None:
    """Deploy history, oldest first: helm, Argo CD, Heroku, GitHub deployments, deploy logs or release tags.

    Failed deploys are listed (marked failed); deploys a later rollback undid are marked rolled_back.

    \b
    Examples:
      incident deploys helm-history.json --service checkout --since 6h
      incident deploys history.json releases.csv --deploys-format helm --deploys-format auto
    """
    import glob

    from incident import render
    from incident.clock import iso
    from incident.errors import NotFound, UsageError
    from incident.render import evidence as out
    from incident.tools.base import ToolContext, spec_dir
    from incident.tools.deploys import load_deploys

    rt = runtime(config=config, now=now, json=json_output)
    s = rt.settings
    start, end = window(since, until, rt.clock())
    found: list[Deploy] = []
    notes: list[SourceNote] = []
    for src, fmt, repo in _sources(s, paths or [], deploys_format or [], service):
        roots = _roots(s, [spec_dir(src) if glob.has_magic(src) else src], root)
        ctx = ToolContext(roots=roots, repo=Path(src) if fmt == "git-tags" else (Path(repo) if repo else None),
                          deploy_paths=[src], deploys_format=fmt, service=service, clock=rt.clock)  # fmt: skip
        got, got_notes = load_deploys(ctx)
        found += got
        notes += got_notes
    if not found and notes and all(n.reason for n in notes):
        first = notes[0]
        if first.refused and first.reason == "does not exist":
            raise NotFound(f"{first.path}: does not exist", "check the path")
        # The reason may already name the file (as resolved): say the path once.
        named = first.reason.startswith((first.path, str(Path(first.path).resolve())))
        hint = first.hint or (
            f"name a file in it, or a quoted glob such as '{first.path.rstrip('/')}/*.json'"
            if "directory" in first.reason
            else "check the file, or name its format with --deploys-format"
        )
        raise UsageError(first.reason if named else f"{first.path}: {first.reason}", hint)
    found.sort(key=lambda d: d.started_at)
    chosen = [d for d in found if (start is None or d.started_at >= start) and (end is None or d.started_at <= end)
              and (service is None or d.service == service)][-max_count:]  # fmt: skip
    if json_output:
        render.print_json({"schema_version": 1, "since": iso(start), "until": iso(end),
                           "deploys": [d.model_dump(mode="json") for d in chosen],
                           "sources": [n.model_dump(mode="json") for n in notes]})  # fmt: skip
        return
    out.deploys_table(chosen, notes, total=len(found))
