"""Read-only git evidence: recent commits, one commit's stat and diff, ranges, release tags.

Every query is bounded by `--since`/`-n` so its cost depends on the window, not on how deep the
history is. git is started by git_proc (fixed argv lists, hostile config switched off); recent
commits are walked on a long-lived reader (git_walk, git_reader).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from incident.errors import NotFound
from incident.models import Commit
from incident.tools import git_reader, git_walk
from incident.tools.git_proc import (
    _DIFF_SAFE,
    _MAX_FILES,
    _SHA,
    _UNTIL_ONLY_WINDOW,
    GitUnavailable,
    _GitFailed,
    _open,
    _problem,
    _resolve,
    _run,
    _start,
    _validate_tag_pattern,
    validate_pathspec,
    validate_ref,
)


@dataclass(frozen=True)
class CommitDetail:
    commit: Commit
    stat: str
    diff: str
    truncated: bool


@dataclass(frozen=True)
class TagInfo:
    name: str
    sha: str
    at: datetime | None


# ---------------------------------------------------------------- parsing


_FORMAT = "--format=%x1e%H%x00%at%x00%an%x00%ae%x00%s%x00"


def _unquote(path: str) -> str:
    """git C-quotes unusual file names ("a\\tb"); show them as text."""
    if len(path) >= 2 and path[0] == '"' and path[-1] == '"':
        try:
            return (
                path[1:-1]
                .encode("latin-1", "backslashreplace")
                .decode("unicode_escape")
                .encode("latin-1")
                .decode("utf-8", "replace")
            )
        except (UnicodeDecodeError, UnicodeEncodeError):
            return path[1:-1]
    return path


def _parse_log(out: str) -> list[Commit]:
    commits: list[Commit] = []
    for chunk in out.split("\x1e"):
        parts = chunk.split("\x00")
        if len(parts) < 6 or not _SHA.fullmatch(parts[0]):
            continue
        sha, at, name, email, subject, rest = (
            parts[0],
            parts[1],
            parts[2],
            parts[3],
            parts[4],
            "\x00".join(parts[5:]),
        )
        try:
            when = datetime.fromtimestamp(int(at), UTC)
        except (ValueError, OverflowError, OSError):
            when = datetime.fromtimestamp(0, UTC)
        files = [_unquote(f) for f in rest.splitlines() if f.strip()][:_MAX_FILES]
        author = f"{name} <{email}>" if email else name
        commits.append(Commit(sha=sha, authored_at=when, author=author, subject=subject, files=files))
    return commits


def _git_time(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000")


# ---------------------------------------------------------------- public API


def recent_commits(
    repo: Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    max_count: int = 50,
    paths: list[str] | None = None,
) -> list[Commit]:
    """Commits reachable from HEAD in the window, newest first (at most `max_count`).

    The walk stops at the first commit older than `since`, so the cost follows the window. It
    runs on this process's long-lived reader for the repository (see git_walk); if that cannot
    answer, one `git log` does, and reports any problem with the repository.
    """
    r = _open(repo)
    max_count = max(1, min(int(max_count), 10_000))
    if until is not None and since is None:
        since = until - _UNTIL_ONLY_WINDOW
    checked = [validate_pathspec(p) for p in (paths or [])]
    try:
        return git_walk.recent(
            git_reader.reader_for(str(r.gitdir), lambda: _start(r, ["cat-file", "--batch"], stdin=subprocess.PIPE)),
            since=since, until=until, max_count=max_count, paths=checked,
        )  # fmt: skip
    except git_reader.WalkUnavailable:
        git_reader.drop_reader(str(r.gitdir))
    args = [
        "log",
        f"-n{max_count}",
        _FORMAT,
        "--name-only",
        "--diff-merges=first-parent",
        "--no-renames",
        "--encoding=UTF-8",
    ]
    if since is not None:
        args.append(f"--since={_git_time(since)}")
    if until is not None:
        args.append(f"--until={_git_time(until)}")
    args += ["HEAD", "--", *checked]
    try:
        out, _ = _run(r, args)
    except _GitFailed as e:
        raise _problem(r, e) from None
    return _parse_log(out)


def commit_detail(repo: Path, ref: str, *, max_diff_chars: int = 20_000) -> CommitDetail:
    """One commit: metadata, `--stat`, and its diff against the first parent, cut at `max_diff_chars`."""
    r = _open(repo)
    sha = _resolve(r, ref)
    max_diff_chars = max(0, int(max_diff_chars))
    try:
        head, _ = _run(
            r, ["log", "-n1", _FORMAT, "--name-only", "--diff-merges=first-parent", "--no-renames", sha, "--"]
        )
        stat, stat_cut = _run(
            r,
            ["show", *_DIFF_SAFE, "--format=", "--stat=160", "--diff-merges=first-parent", sha, "--"],
            limit=200_000,
        )
        # Read a little more than asked so the cut is visible, but never the whole of a huge diff.
        diff, diff_cut = _run(
            r,
            ["show", *_DIFF_SAFE, "--format=", "--patch", "--diff-merges=first-parent", sha, "--"],
            limit=max_diff_chars * 4 + 1024,
        )
    except _GitFailed as e:
        raise _problem(r, e) from None
    commits = _parse_log(head)
    if not commits:
        raise NotFound(f"no commit {ref!r} in {r.path}")
    truncated = diff_cut or stat_cut or len(diff) > max_diff_chars
    if len(diff) > max_diff_chars:
        diff = diff[:max_diff_chars]
    return CommitDetail(commit=commits[0], stat=stat.strip("\n"), diff=diff, truncated=truncated)


def commits_between(repo: Path, base: str, head: str, *, max_count: int = 200) -> list[Commit]:
    """Commits in `head` that are not in `base` (base..head), newest first."""
    r = _open(repo)
    b, h = _resolve(r, base), _resolve(r, head)
    max_count = max(1, min(int(max_count), 10_000))
    try:
        out, _ = _run(
            r,
            [
                "log",
                f"-n{max_count}",
                _FORMAT,
                "--name-only",
                "--diff-merges=first-parent",
                "--no-renames",
                f"{b}..{h}",
                "--",
            ],
        )
    except _GitFailed as e:
        raise _problem(r, e) from None
    return _parse_log(out)


def list_tags(repo: Path, pattern: str = "*", *, max_count: int = 100) -> list[TagInfo]:
    """Tags matching the glob, newest first; annotated tags are peeled to their commit."""
    r = _open(repo)
    _validate_tag_pattern(pattern)
    max_count = max(1, min(int(max_count), 10_000))
    fmt = "--format=%(refname:strip=2)%00%(objectname)%00%(*objectname)%00%(creatordate:unix)"
    try:
        out, _ = _run(
            r, ["for-each-ref", "--sort=-creatordate", f"--count={max_count}", fmt, f"refs/tags/{pattern}"]
        )
    except _GitFailed as e:
        raise _problem(r, e) from None
    tags: list[TagInfo] = []
    for line in out.splitlines():
        parts = line.split("\x00")
        if len(parts) != 4:
            continue
        name, obj, peeled, at = parts
        try:
            when: datetime | None = datetime.fromtimestamp(int(at), UTC)
        except (ValueError, OverflowError, OSError):
            when = None
        tags.append(TagInfo(name=name, sha=peeled or obj, at=when))
    return tags


def __getattr__(name: str) -> object:
    # The model-facing wrappers live in git_tools (which imports this module); `git.TOOLS` is
    # what the registry asks for.
    if name == "TOOLS":
        from incident.tools.git_tools import TOOLS

        return TOOLS
    raise AttributeError(name)


__all__ = [
    "CommitDetail",
    "GitUnavailable",
    "TagInfo",
    "commit_detail",
    "commits_between",
    "list_tags",
    "recent_commits",
    "validate_pathspec",
    "validate_ref",
]
