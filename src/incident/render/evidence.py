"""Renderers for `incident changes` and `incident deploys`.

Commit subjects, authors and deploy descriptions are data from outside: cleaned and printed as
Text, never as markup.
"""

from __future__ import annotations

from datetime import datetime

from rich.table import Table
from rich.text import Text

from incident.models import Commit, Deploy, SourceNote
from incident.render import clean, console, hhmm

_STATUS_STYLE = {"succeeded": "green", "failed": "bold red", "in_progress": "yellow", "rolled_back": "magenta", "unknown": "dim"}


def _t(value: str | None, style: str = "") -> Text:
    return Text(clean(value or "-"), style=style)


def commits_table(repo: str, commits: list[Commit], since: datetime, until: datetime | None, *, note: str = "", limit: int = 0) -> None:
    c = console()
    window = f"{hhmm(since)} .. {hhmm(until) if until else 'now'}"
    c.print(Text(f"{clean(repo)}  ", style="bold") + Text(window, style="dim"))
    if not commits:
        c.print(Text(clean(note or "no commits in this window"), style="dim"))
        return
    t = Table(show_edge=False, header_style="bold")
    t.add_column("sha", no_wrap=True, style="cyan")
    t.add_column("authored (UTC)", no_wrap=True)
    t.add_column("author", no_wrap=True, overflow="ellipsis", max_width=16)
    t.add_column("subject", overflow="fold", min_width=20)
    t.add_column("files", no_wrap=True, overflow="ellipsis", max_width=24)
    for cm in commits:
        shown = (f"{len(cm.files)}: " if len(cm.files) > 1 else "") + ", ".join(cm.files[:3])
        author = cm.author.split(" <", 1)[0]  # the email is in --json
        t.add_row(Text(cm.sha[:10]), Text(hhmm(cm.authored_at)), _t(author), _t(cm.subject), _t(shown, "dim"))
    c.print(t)
    if limit and len(commits) >= limit:
        c.print(Text(f"showing the newest {limit}; raise -n or narrow --since for more", style="dim"))


def deploys_table(deploys: list[Deploy], notes: list[SourceNote], *, total: int) -> None:
    c = console()
    _notes(notes)
    if not deploys:
        c.print(Text("no deploys in this window" if total else "no deploys found", style="dim"))
        return
    columns = [
        ("started (UTC)", lambda d: Text(hhmm(d.started_at))),
        ("service", lambda d: _t(d.service)),
        ("env", lambda d: _t(d.environment)),
        ("id", lambda d: _t(d.id)),
        ("version", lambda d: _t(d.version)),
        ("sha", lambda d: _t((d.sha or "")[:10] or None, "cyan")),
        ("status", lambda d: Text(d.status, style=_STATUS_STYLE.get(d.status, ""))),
        ("by", lambda d: _t(d.actor)),
        ("description", lambda d: _t(_describe(d) or None)),
    ]
    # Sources fill different fields (helm has no sha, GitHub no version): hide the empty ones.
    empty = {"env": "environment", "version": "version", "sha": "sha", "by": "actor", "description": "description"}
    columns = [(name, cell) for name, cell in columns if name not in empty or any(getattr(d, empty[name]) for d in deploys)]
    t = Table(show_edge=False, header_style="bold")
    for name, _ in columns:
        if name == "description":
            t.add_column(name, overflow="fold", min_width=16)
        else:
            t.add_column(name, no_wrap=True, overflow="ellipsis", max_width=None if name in ("started (UTC)", "sha", "status") else 18)
    for d in deploys:
        t.add_row(*(cell(d) for _, cell in columns))
    c.print(t)
    if total > len(deploys):
        c.print(Text(f"{len(deploys)} of {total} deploys shown (window / -n)", style="dim"))


def _describe(d: Deploy) -> str:
    desc = d.description or ""
    if d.rollback_of and "rollback" not in desc.lower():
        desc = f"rollback to {d.rollback_of}" + (f" · {desc}" if desc else "")
    return desc[:200]


def _notes(notes: list[SourceNote]) -> None:
    err = console(stderr=True)
    for n in notes:
        if n.refused or n.reason:
            line = Text("skipped ", style="yellow") + Text(clean(f"{n.path}: {n.reason}"))
            if n.hint:
                line += Text(clean(f" (hint: {n.hint})"), style="dim")
            err.print(line)
        elif "skipped" in n.detail or "not kept" in n.detail:
            err.print(Text("note ", style="yellow") + Text(clean(f"{n.path}: {n.detail}")))


__all__ = ["commits_table", "deploys_table"]
