"""Real git repositories for tests, built with fixed argv lists (and fast-import for bulk)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
    "HOME": os.devnull,
}


def git(repo: Path, *args: str, at: datetime | None = None, input: bytes | None = None) -> str:
    env = {**os.environ, **_ENV}
    if at is not None:
        stamp = f"{int(at.timestamp())} +0000"
        env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
    env.update(GIT_AUTHOR_NAME="Ada Dev", GIT_AUTHOR_EMAIL="ada@example.com", GIT_COMMITTER_NAME="Ada Dev", GIT_COMMITTER_EMAIL="ada@example.com")
    res = subprocess.run(["git", *args], cwd=repo, env=env, input=input, capture_output=True, check=True)
    return res.stdout.decode()


def init(repo: Path, *, bare: bool = False) -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main", *(["--bare"] if bare else []))
    return repo


def commit(repo: Path, subject: str, files: dict[str, str], at: datetime) -> str:
    for name, text in files.items():
        p = repo / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    git(repo, "add", "--", *files)
    git(repo, "commit", "-q", "-m", subject, at=at)
    return git(repo, "rev-parse", "HEAD").strip()


@dataclass
class FastCommit:
    at: datetime
    subject: str
    files: dict[str, str] = field(default_factory=dict)
    author: str = "Ada Dev <ada@example.com>"


def fast_import(repo: Path, commits: Iterable[FastCommit], *, branch: str = "refs/heads/main") -> None:
    """Write many commits in one `git fast-import` stream (thousands per second)."""
    parts: list[bytes] = []
    for i, c in enumerate(commits, 1):
        msg = c.subject.encode()
        stamp = int(c.at.timestamp())
        parts.append(f"commit {branch}\nmark :{i}\n".encode())
        parts.append(f"author {c.author} {stamp} +0000\ncommitter {c.author} {stamp} +0000\n".encode())
        parts.append(f"data {len(msg)}\n".encode() + msg + b"\n")
        if i > 1:
            parts.append(f"from :{i - 1}\n".encode())
        for name, text in c.files.items():
            data = text.encode()
            parts.append(f"M 100644 inline {name}\ndata {len(data)}\n".encode() + data + b"\n")
    git(repo, "fast-import", "--quiet", input=b"".join(parts))
    if not (repo / "HEAD").exists():  # work tree repo: check out so HEAD's files exist
        git(repo, "checkout", "-q", "-f", branch.rsplit("/", 1)[-1])


def history(n: int, *, end: datetime = T0, step: timedelta = timedelta(minutes=10)) -> list[FastCommit]:
    start = end - step * (n - 1)
    return [FastCommit(at=start + step * i, subject=f"change {i}", files={f"src/mod{i % 7}.py": f"v = {i}\n"}) for i in range(n)]
