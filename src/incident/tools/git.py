"""Read-only git evidence: recent commits, one commit's stat and diff, ranges, release tags.

Every query is bounded by `--since`/`-n` so its cost depends on the window, not on how deep the
history is. git is started through GitPython with a fixed argv list (never a shell), with the
repository named explicitly (no discovery upwards out of the read roots) and with every config
knob that could run a program switched off: a cloned repo's `.git/config` is attacker-controlled
data as far as this tool is concerned.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from incident.errors import EXIT_USAGE, IncidentError, NotFound, UsageError
from incident.models import Commit
from incident.tools import git_walk

if TYPE_CHECKING:
    from git.cmd import Git

GitProblem = Literal["missing_git", "not_repo", "empty", "unsafe", "failed"]

_TIMEOUT_S = 30.0
_MAX_OUTPUT = 8_000_000  # bytes read from one git process; the rest is cut, not buffered
_MAX_FILES = 300  # files listed per commit
_UNTIL_ONLY_WINDOW = timedelta(days=30)  # `until` without `since` still gets a lower bound

# `-c` overrides that keep a hostile repo config from running anything or reaching the network.
_SAFE_CONFIG = (
    "-c", "core.fsmonitor=false",
    "-c", "core.pager=cat",
    "-c", "log.showSignature=false",
    "-c", "log.mailmap=false",
    "-c", "color.ui=false",
    "-c", "protocol.allow=never",
    "-c", "diff.external=",
)  # fmt: skip
_DIFF_SAFE = ("--no-ext-diff", "--no-textconv", "--no-color")

_REF_OK = re.compile(r"[A-Za-z0-9._/@{}^~+-]{1,200}")
_TAG_PATTERN_OK = re.compile(r"[A-Za-z0-9._/*?\[\]!+-]{1,128}")
_SHA = re.compile(r"[0-9a-f]{7,64}")


class GitUnavailable(IncidentError):
    """The repository cannot answer: git missing, not a repository, or no commits yet."""

    code = "git_unavailable"
    exit_code = EXIT_USAGE

    def __init__(self, message: str, hint: str = "", *, problem: GitProblem = "failed"):
        super().__init__(message, hint)
        self.problem = problem


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


@dataclass(frozen=True)
class _Repo:
    path: Path
    gitdir: Path


# ---------------------------------------------------------------- validation


def validate_ref(ref: str) -> str:
    """Refuse anything that git could read as an option, a range, a search or shell syntax."""
    if not isinstance(ref, str) or not _REF_OK.fullmatch(ref) or ref.startswith("-") or ".." in ref:
        shown = repr(ref[:80]) if isinstance(ref, str) else repr(ref)
        raise UsageError(
            f"refused git ref {shown}",
            "give a commit sha, branch, tag or HEAD~N (letters, digits and ._/@{}^~+- only; no leading '-', no '..')",
        )
    return ref


def validate_pathspec(path: str) -> str:
    if not isinstance(path, str) or not path or len(path) > 500 or any(ord(c) < 32 for c in path):
        raise UsageError(
            f"refused path {str(path)[:80]!r}", "give a repository-relative path without control characters"
        )
    return path


def _validate_tag_pattern(pattern: str) -> str:
    if not _TAG_PATTERN_OK.fullmatch(pattern) or pattern.startswith("-") or ".." in pattern:
        raise UsageError(f"refused tag pattern {pattern[:80]!r}", "use a glob such as v* or release-*")
    return pattern


# ---------------------------------------------------------------- running git


def _open(repo: Path) -> _Repo:
    """The repository at exactly `repo` (work tree or bare); never a parent found by discovery."""
    raw = os.fspath(repo)
    if "\x00" in raw:
        raise GitUnavailable("repository path contains a NUL byte", problem="not_repo")
    try:
        path = Path(raw).expanduser().resolve(strict=True)
    except FileNotFoundError:
        raise GitUnavailable(f"{raw}: no such directory", "check --repo", problem="not_repo") from None
    except (OSError, RuntimeError) as e:
        raise GitUnavailable(
            f"{raw}: cannot be resolved ({e.__class__.__name__})", problem="not_repo"
        ) from None
    if not path.is_dir():
        raise GitUnavailable(
            f"{raw} is a file, not a git repository",
            "point --repo at the repository directory",
            problem="not_repo",
        )
    dotgit = path / ".git"
    if dotgit.exists():
        return _Repo(path, dotgit)
    if (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir():
        return _Repo(path, path)  # bare
    raise GitUnavailable(
        f"{raw} is not a git repository",
        "point --repo at the repository's top-level directory (the one holding .git)",
        problem="not_repo",
    )


def _env(r: _Repo) -> dict[str, str]:
    return {
        "GIT_DIR": str(r.gitdir),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_PARAMETERS": "",
        "GIT_CONFIG_COUNT": "0",
        "GIT_PAGER": "cat",
        "PAGER": "cat",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",  # a reader must not rewrite the index
        "GIT_NO_LAZY_FETCH": "1",
        "GIT_NO_REPLACE_OBJECTS": "1",
    }


class _GitFailed(Exception):
    def __init__(self, stderr: str):
        super().__init__(stderr)
        self.stderr = stderr


def _start(r: _Repo, args: list[str], *, stdin: int | None = None) -> Git.AutoInterrupt:
    """Start `git <safe config> args` through GitPython (a fixed argv list, never a shell).

    The handle owns the process: GitPython ends it when the handle is collected, so keep it.
    """
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")  # a missing git is our error, not an ImportError
    try:
        from git.cmd import Git
        from git.exc import GitCommandNotFound
    except ImportError as e:  # pragma: no cover - GitPython is a dependency
        raise GitUnavailable(f"GitPython cannot be imported ({e})", problem="missing_git") from None
    argv = [str(Git.GIT_PYTHON_GIT_EXECUTABLE or "git"), *_SAFE_CONFIG, *args]
    try:
        handle = Git(str(r.path)).execute(argv, as_process=True, env=_env(r), istream=stdin)
    except GitCommandNotFound:
        raise GitUnavailable(
            "git is not installed or not on PATH", "install git", problem="missing_git"
        ) from None
    assert handle.proc is not None and handle.proc.stdout is not None  # as_process with PIPEs
    return handle


def _run(r: _Repo, args: list[str], *, limit: int = _MAX_OUTPUT) -> tuple[str, bool]:
    """Run `git <safe config> args` and return (stdout, cut). Output past `limit` bytes is not read."""
    handle = _start(r, args)
    proc = handle.proc
    assert proc is not None and proc.stdout is not None and proc.stderr is not None
    # Our own watchdog: GitPython's kill_after_timeout starts `ps`/`pgrep`, and only git may run.
    timer = threading.Timer(_TIMEOUT_S, proc.kill)
    timer.start()
    try:
        out = proc.stdout.read(limit + 1)
        cut = len(out) > limit
        if cut:
            proc.kill()
        err = proc.stderr.read(64_000)
        rc = proc.wait()
    finally:
        timer.cancel()
        for stream in (proc.stdout, proc.stderr):
            stream.close()
    if rc != 0 and not cut:
        raise _GitFailed(err.decode("utf-8", "replace").strip() or f"git exited with {rc}")
    return out[:limit].decode("utf-8", "replace"), cut


def _problem(r: _Repo, e: _GitFailed) -> IncidentError:
    msg = e.stderr
    if "dubious ownership" in msg:
        return GitUnavailable(
            f"git refuses {r.path}: it is owned by another user",
            f"run as the owner, or: git config --global --add safe.directory {r.path}",
            problem="unsafe",
        )
    if "not a git repository" in msg:
        return GitUnavailable(f"{r.path} is not a git repository", problem="not_repo")
    if "HEAD" in msg or "does not have any commits" in msg:
        unborn = _unborn_head(r)
        if unborn is not None:
            return unborn
    return GitUnavailable(f"git failed in {r.path}: {msg.splitlines()[-1] if msg else 'no message'}")


def _unborn_head(r: _Repo) -> GitUnavailable | None:
    """An empty repository, or HEAD on a branch with no commits (`git checkout --orphan`)."""
    try:
        _run(r, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
        return None
    except _GitFailed:
        pass
    try:
        any_ref = _run(r, ["for-each-ref", "--count=1", "--format=%(refname)"])[0].strip()
    except _GitFailed:
        any_ref = ""
    if any_ref:
        return GitUnavailable(
            f"HEAD in {r.path} is on a branch with no commits",
            f"check out a branch with history, e.g. {any_ref}",
            problem="empty",
        )
    return GitUnavailable(f"{r.path} has no commits yet", problem="empty")


def _is_shallow(r: _Repo) -> bool:
    try:
        return _run(r, ["rev-parse", "--is-shallow-repository"])[0].strip() == "true"
    except _GitFailed:
        return False


def _resolve(r: _Repo, ref: str) -> str:
    """The full sha of the commit `ref` names (validated first; never read as an option)."""
    validate_ref(ref)
    try:
        out, _ = _run(r, ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"])
    except _GitFailed as e:
        if "not a git repository" in e.stderr or "dubious ownership" in e.stderr:
            raise _problem(r, e) from None
        hint = "list recent commits or tags to find a valid ref"
        if _is_shallow(r):
            hint = "the repository is a shallow clone and may not hold it: git fetch --unshallow (or a deeper --depth)"
        raise NotFound(f"no commit {ref!r} in {r.path}", hint) from None
    sha = out.strip()
    if not _SHA.fullmatch(sha):
        raise NotFound(f"no commit {ref!r} in {r.path}")
    return sha


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
            git_walk.reader_for(str(r.gitdir), lambda: _start(r, ["cat-file", "--batch"], stdin=subprocess.PIPE)),
            since=since, until=until, max_count=max_count, paths=checked,
        )  # fmt: skip
    except git_walk.WalkUnavailable:
        git_walk.drop_reader(str(r.gitdir))
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
