"""Renderers for `incident changes` and `incident deploys`.

Commit subjects, authors and deploy descriptions are data from outside: cleaned and printed as
Text, never as markup.
"""

from __future__ import annotations

from datetime import datetime

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
    from incident.render.tables import Col, fitted

    def files(cm: Commit) -> str:
        return (f"{len(cm.files)}: " if len(cm.files) > 1 else "") + ", ".join(cm.files[:3])

    cols = [
        Col("sha", [Text(cm.sha[:10], style="cyan") for cm in commits]),
        Col("authored (UTC)", [Text(hhmm(cm.authored_at)) for cm in commits], keep=3),
        Col("author", [_t(cm.author.split(" <", 1)[0]) for cm in commits], keep=1, max_width=16),  # the email is in --json
        Col("subject", [_t(cm.subject) for cm in commits], wrap=True, min_width=20),
        Col("files", [_t(files(cm), "dim") for cm in commits], keep=2, max_width=24),
    ]
    c.print(fitted(cols, c.width))
    if limit and len(commits) >= limit:
        c.print(Text(f"showing the newest {limit}; raise -n or narrow --since for more", style="dim"))


def deploys_table(deploys: list[Deploy], notes: list[SourceNote], *, total: int) -> None:
    c = console()
    _notes(notes)
    if not deploys:
        c.print(Text("no deploys in this window" if total else "no deploys found", style="dim"))
        return
    from incident.render.tables import Col, fitted

    cols = [
        Col("started (UTC)", [Text(hhmm(d.started_at)) for d in deploys]),
        Col("service", [_t(d.service) for d in deploys], keep=5, max_width=18),
        Col("env", [_t(d.environment) for d in deploys], keep=1, max_width=12),
        Col("id", [_t(d.id) for d in deploys], max_width=24),
        Col("version", [_t(d.version) for d in deploys], keep=4, max_width=18),
        Col("sha", [_t((d.sha or "")[:10] or None, "cyan") for d in deploys], keep=3),
        Col("status", [Text(d.status, style=_STATUS_STYLE.get(d.status, "")) for d in deploys]),
        Col("by", [_t(d.actor) for d in deploys], keep=2, max_width=14),
        Col("description", [_t(_describe(d) or None) for d in deploys], wrap=True, min_width=16, keep=6),
    ]
    # Sources fill different fields (helm has no sha, GitHub no version): hide the empty ones.
    empty = {"env": "environment", "version": "version", "sha": "sha", "by": "actor", "description": "description"}
    cols = [col for col in cols if col.header not in empty or any(getattr(d, empty[col.header]) for d in deploys)]
    c.print(fitted(cols, c.width))
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
