"""Starting git safely: the repository at exactly the given path, a fixed argv list through
GitPython (never a shell), every config knob that could run a program switched off, validated
refs, a watchdog, bounded output, and git's failures turned into errors the operator can act on.

A cloned repo's `.git/config` is attacker-controlled data as far as this module is concerned.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from incident.errors import EXIT_USAGE, IncidentError, NotFound, UsageError

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
