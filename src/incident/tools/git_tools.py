"""The git tools as a model sees them: argument models, docstrings, bounded text results.

The repository is always `ctx.repo`, checked against the read roots; a model can name refs,
paths inside the repository and time windows, never another repository.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import Field

from incident.clock import iso, parse_when
from incident.errors import IncidentError
from incident.models import Commit
from incident.tools import git
from incident.tools.base import PathRefused, Tool, ToolArgs, ToolContext, ToolResult, cap_text

_DEFAULT_WINDOW = timedelta(hours=24)


def checked_repo(ctx: ToolContext, path: Path | None = None) -> Path:
    """`path` (default `ctx.repo`) resolved inside the roots; a `.git` file (worktree, submodule)
    must point inside them too."""
    path = path if path is not None else ctx.repo
    if path is None:
        raise PathRefused(
            "(no repository)",
            "no repository is configured",
            "pass --repo or set `repo:` for the service in .incident.yaml",
        )
    repo = ctx.roots.check(path, want="dir")
    dotgit = repo / ".git"
    if dotgit.is_file():
        try:
            first = dotgit.read_text(encoding="utf-8", errors="replace")[:4096].splitlines()[0]
        except (OSError, IndexError):
            first = ""
        if first.startswith("gitdir:"):
            target = (repo / first[len("gitdir:") :].strip()).resolve()
            if not ctx.roots.contains(target):
                raise PathRefused(
                    str(dotgit),
                    f"points to {target}, outside the read roots",
                    f"add {target.parent} to the read roots",
                )
    return repo


def commit_line(c: Commit) -> str:
    files = ""
    if c.files:
        shown = ", ".join(c.files[:5]) + (", …" if len(c.files) > 5 else "")
        files = f"  [{len(c.files)} file{'s' if len(c.files) != 1 else ''}: {shown}]"
    return f"{c.sha[:12]}  {iso(c.authored_at)}  {c.author}  {c.subject}{files}"


def _window(ctx: ToolContext, since: str | None, until: str | None) -> tuple[datetime, datetime | None]:
    now = ctx.now
    end = parse_when(until, now=now) if until else None
    start = parse_when(since, now=now) if since else (end or now) - _DEFAULT_WINDOW
    return start, end


def _guarded(
    name: str, fn: Callable[[ToolContext, Any], ToolResult]
) -> Callable[[ToolContext, Any], ToolResult]:
    """Turn the git module's errors into results the model can read (an empty repo is no_data)."""

    def run(ctx: ToolContext, args: Any) -> ToolResult:
        try:
            return fn(ctx, args)
        except git.GitUnavailable as e:
            text = f"{e.message}. {e.hint}".strip()
            if e.problem == "empty":
                return ToolResult(tool=name, status="no_data", text=text)
            return ToolResult(tool=name, status="error", text=text)
        except IncidentError as e:
            return ToolResult(tool=name, status="error", text=f"{e.message}. {e.hint}".strip())

    run.__doc__ = fn.__doc__
    return run


# ---------------------------------------------------------------- recent_commits


class RecentCommitsArgs(ToolArgs):
    since: str | None = Field(
        None,
        max_length=64,
        description="Start of the window: ISO 8601 (2026-11-21T14:00:00Z) or a duration before now (90m, 6h, 2d). Default: 24h before now.",
    )
    until: str | None = Field(None, max_length=64, description="End of the window, same forms. Default: now.")
    max_count: int = Field(30, ge=1, le=200, description="At most this many commits, newest first.")
    paths: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Only commits touching these repository-relative paths or directories.",
    )


def _recent(ctx: ToolContext, args: RecentCommitsArgs) -> ToolResult:
    """List commits on the service repository's checked-out branch in a time window, newest first:
    sha, author time (UTC), author, subject and the files changed. Use it to find what changed just
    before the incident started; follow up on a suspect with show_commit."""
    repo = checked_repo(ctx)
    start, end = _window(ctx, args.since, args.until)
    commits = git.recent_commits(
        repo, since=start, until=end, max_count=args.max_count, paths=args.paths or None
    )
    window = f"{iso(start)} .. {iso(end) if end else 'now'}"
    if not commits:
        return ToolResult(
            tool="recent_commits", status="no_data", text=f"no commits between {window}", data=[]
        )
    more = " (limit reached; narrow the window for older ones)" if len(commits) >= args.max_count else ""
    text = f"{len(commits)} commits {window}{more}:\n" + "\n".join(commit_line(c) for c in commits)
    body, cut = cap_text(text, ctx.max_chars)
    return ToolResult(tool="recent_commits", status="ok", text=body, truncated=cut, data=commits)


# ---------------------------------------------------------------- show_commit


class ShowCommitArgs(ToolArgs):
    ref: str = Field(..., max_length=200, description="A commit sha (7+ hex digits), tag, branch or HEAD~N.")
    max_diff_chars: int = Field(
        8_000, ge=500, le=20_000, description="Cut the diff after this many characters."
    )


def _show(ctx: ToolContext, args: ShowCommitArgs) -> ToolResult:
    """Show one commit of the service repository: its metadata, a --stat summary of the files
    changed and the diff against its first parent (cut at max_diff_chars, marked when cut). Use
    it to check whether a suspect commit could cause the symptoms."""
    repo = checked_repo(ctx)
    d = git.commit_detail(repo, args.ref, max_diff_chars=args.max_diff_chars)
    c = d.commit
    parts = [commit_line(c), "", d.stat, "", d.diff]
    if d.truncated:
        parts.append(f"[truncated: diff cut at {args.max_diff_chars} characters]")
    body, cut = cap_text("\n".join(parts), ctx.max_chars)
    return ToolResult(tool="show_commit", status="ok", text=body, truncated=cut or d.truncated, data=d)


# ---------------------------------------------------------------- commits_between


class CommitsBetweenArgs(ToolArgs):
    base: str = Field(
        ..., max_length=200, description="The older ref, e.g. the last good release tag or its sha."
    )
    head: str = Field(
        "HEAD", max_length=200, description="The newer ref, e.g. the suspect release's sha. Default HEAD."
    )
    max_count: int = Field(100, ge=1, le=200, description="At most this many commits, newest first.")


def _between(ctx: ToolContext, args: CommitsBetweenArgs) -> ToolResult:
    """List the commits that are in `head` but not in `base` (git log base..head), newest first.
    Use it to see exactly what a deploy shipped: base = the previous good release, head = the
    suspect release."""
    repo = checked_repo(ctx)
    commits = git.commits_between(repo, args.base, args.head, max_count=args.max_count)
    if not commits:
        return ToolResult(
            tool="commits_between", status="no_data", text=f"no commits in {args.base}..{args.head}", data=[]
        )
    more = " (limit reached)" if len(commits) >= args.max_count else ""
    text = f"{len(commits)} commits in {args.base}..{args.head}{more}:\n" + "\n".join(
        commit_line(c) for c in commits
    )
    body, cut = cap_text(text, ctx.max_chars)
    return ToolResult(tool="commits_between", status="ok", text=body, truncated=cut, data=commits)


# ---------------------------------------------------------------- list_tags


class ListTagsArgs(ToolArgs):
    pattern: str = Field("*", max_length=128, description="A glob for tag names, e.g. v* or release-2026*.")
    max_count: int = Field(30, ge=1, le=200, description="At most this many tags, newest first.")


def _tags(ctx: ToolContext, args: ListTagsArgs) -> ToolResult:
    """List the service repository's tags matching a glob, newest first, with the commit each
    points to and when it was made. Release tags often mark what was deployed when."""
    repo = checked_repo(ctx)
    tags = git.list_tags(repo, args.pattern, max_count=args.max_count)
    if not tags:
        return ToolResult(tool="list_tags", status="no_data", text=f"no tags match {args.pattern!r}", data=[])
    lines = [f"{t.name}  {t.sha[:12]}  {iso(t.at) or '-'}" for t in tags]
    body, cut = cap_text(f"{len(tags)} tags:\n" + "\n".join(lines), ctx.max_chars)
    return ToolResult(tool="list_tags", status="ok", text=body, truncated=cut, data=tags)


TOOLS: list[Tool[Any]] = [
    Tool("recent_commits", RecentCommitsArgs, _guarded("recent_commits", _recent)),
    Tool("show_commit", ShowCommitArgs, _guarded("show_commit", _show)),
    Tool("commits_between", CommitsBetweenArgs, _guarded("commits_between", _between)),
    Tool("list_tags", ListTagsArgs, _guarded("list_tags", _tags)),
]
