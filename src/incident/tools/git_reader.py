"""One long-lived `git cat-file --batch` reader per repository, and the objects it has parsed.

A fresh git process pays for its first look into a big pack: on a 200k-commit repository the
object index is 28 MB, and the ~150 lookups a bounded `git log -n50 --since --name-only` makes
touch a few hundred of its pages, so the same window cost about 1.3x what it costs on a 5k-commit
repository. A reader that lives as long as the triage keeps those pages mapped and the objects it
has parsed (immutable by sha), so each later query costs what its window costs.

Only fixed requests reach the reader: `HEAD`, and full hex object names with `~N` suffixes that
git_walk builds; never a value from a user, a model or a log.
"""

from __future__ import annotations

import atexit
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any

_TIMEOUT_S = 30.0
_MAX_OBJECT = 32_000_000  # an object bigger than this is skipped, not buffered
_BATCH = 400  # names per write: well inside a pipe buffer, so the write never blocks
_CACHE_ITEMS = 50_000
_READERS_KEPT = 4


class WalkUnavailable(Exception):
    """The reader cannot answer (no HEAD, git missing or refusing, a dead process): fall back."""


@dataclass(frozen=True, slots=True)
class _Commit:
    sha: str
    tree: str
    parents: tuple[str, ...]
    committed: int
    authored: int
    author: str
    subject: str


# ---------------------------------------------------------------- the reader process


class Reader:
    """A `git cat-file --batch` process and the objects it has parsed (immutable by sha)."""

    def __init__(self, handle: Any):
        # `handle` owns the process (GitPython ends it when the handle is collected): keep it.
        self._handle = handle
        proc: subprocess.Popen[bytes] = handle.proc
        assert proc.stdin is not None and proc.stdout is not None  # started with pipes
        self._proc = proc
        self._stdin, self._stdout = proc.stdin, proc.stdout
        self._lock = threading.Lock()
        self._deadline = 0.0  # while a fetch runs: when the watchdog kills a stuck git
        self.commits: dict[str, _Commit] = {}
        self.trees: dict[str, dict[bytes, tuple[bytes, str]]] = {}
        # One sleeping watchdog per reader: a timer thread per fetch would cost more than the fetch.
        threading.Thread(target=self._watch, name="git-cat-file-watchdog", daemon=True).start()

    def _watch(self) -> None:
        while self._proc.poll() is None:
            time.sleep(1.0)
            if self._deadline and time.monotonic() > self._deadline:
                self._proc.kill()

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def close(self) -> None:
        try:
            self._stdin.close()  # cat-file exits at the end of its input
            self._proc.wait(timeout=2)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            self._proc.kill()
            self._proc.wait()
        for stream in (self._stdout, self._proc.stderr):
            if stream is not None:
                stream.close()

    def fetch(self, names: list[str]) -> list[tuple[str, bytes] | None]:
        """(sha, body) for each name, or None when git has no such object (or it is too big)."""
        out: list[tuple[str, bytes] | None] = []
        with self._lock:
            self._deadline = time.monotonic() + _TIMEOUT_S
            try:
                for i in range(0, len(names), _BATCH):
                    part = names[i : i + _BATCH]
                    self._stdin.write("".join(f"{n}\n" for n in part).encode())
                    self._stdin.flush()
                    out.extend(_read_one(self._stdout) for _ in part)
            except (OSError, ValueError) as e:
                raise WalkUnavailable(f"git cat-file stopped: {e}") from None
            finally:
                self._deadline = 0.0
        return out

    def commit(self, found: tuple[str, bytes] | None) -> _Commit | None:
        if found is None:
            return None
        sha, body = found
        c = self.commits.get(sha)
        if c is None:
            if len(self.commits) > _CACHE_ITEMS:
                self.commits.clear()
            c = self.commits[sha] = _parse_commit(sha, body)
        return c


    def load_trees(self, shas: Iterable[str]) -> None:
        """Parse the trees not yet known, in one round trip; a missing tree reads as empty."""
        if len(self.trees) > _CACHE_ITEMS:
            self.trees.clear()  # before `need`: the trees a caller is diffing are fetched again
        need = list(dict.fromkeys(s for s in shas if s not in self.trees))
        if need:
            for sha, found in zip(need, self.fetch(need), strict=True):
                self.trees[sha] = _parse_tree(found[1]) if found else {}


def _read_one(stdout: IO[bytes]) -> tuple[str, bytes] | None:
    header = stdout.readline()
    if not header.endswith(b"\n"):
        raise WalkUnavailable("git cat-file ended early")
    parts = header.split()
    if len(parts) == 2 and parts[1] in (b"missing", b"ambiguous"):
        return None
    if len(parts) != 3 or not parts[2].isdigit():
        raise WalkUnavailable(f"unexpected reply from git cat-file: {header[:80]!r}")
    size = int(parts[2])
    if size > _MAX_OBJECT:
        left = size + 1
        while left:
            chunk = stdout.read(min(left, 1 << 20))
            if not chunk:
                raise WalkUnavailable("git cat-file ended early")
            left -= len(chunk)
        return None
    body = stdout.read(size + 1)
    if len(body) != size + 1:
        raise WalkUnavailable("git cat-file ended early")
    if parts[1] not in (b"commit", b"tree"):
        return None  # HEAD~N never names a blob; a tag would need peeling we do not do
    return parts[0].decode(), body[:-1]


_readers: dict[str, Reader] = {}
_readers_lock = threading.Lock()


def reader_for(key: str, start: Callable[[], Any]) -> Reader:
    """The live reader for a repository, started on first use; a few are kept, oldest closed."""
    with _readers_lock:
        r = _readers.get(key)
        if r is not None and r.alive:
            return r
        if r is not None:
            del _readers[key]
        while len(_readers) >= _READERS_KEPT:
            _readers.pop(next(iter(_readers))).close()
        r = _readers[key] = Reader(start())
        return r


def drop_reader(key: str) -> None:
    with _readers_lock:
        r = _readers.pop(key, None)
    if r is not None:
        r.close()


@atexit.register
def close_readers() -> None:
    with _readers_lock:
        readers = list(_readers.values())
        _readers.clear()
    for r in readers:
        r.close()


# ---------------------------------------------------------------- parsing objects


def _parse_commit(sha: str, body: bytes) -> _Commit:
    head, _, message = body.partition(b"\n\n")
    fields: dict[bytes, bytes] = {}
    parents: list[str] = []
    for line in head.split(b"\n"):
        key, _, value = line.partition(b" ")
        if key == b"parent":
            parents.append(value.decode("ascii", "replace"))
        elif key in (b"tree", b"author", b"committer", b"encoding"):
            fields.setdefault(key, value)
    encoding = fields.get(b"encoding", b"utf-8").decode("ascii", "replace").strip() or "utf-8"
    author, authored = _ident(fields.get(b"author", b""), encoding)
    return _Commit(
        sha, fields.get(b"tree", b"").decode("ascii", "replace"), tuple(parents),
        _ident(fields.get(b"committer", b""), encoding)[1], authored, author, _subject(message, encoding),
    )  # fmt: skip


def _decode(raw: bytes, encoding: str) -> str:
    """Text as `git log --encoding=UTF-8` shows it: re-encoded from the commit's `encoding`."""
    try:
        return raw.decode(encoding, "replace")
    except LookupError:
        return raw.decode("utf-8", "replace")


def _ident(value: bytes, encoding: str) -> tuple[str, int]:
    """'Name <email> 1700000000 +0100' -> ('Name <email>', 1700000000); git's %an <%ae>, %at."""
    ident, _, when = value.rpartition(b">")
    name, _, email = ident.partition(b"<")
    stamp = when.split()[:1]
    try:
        at = int(stamp[0]) if stamp else 0
    except ValueError:
        at = 0
    name_s, email_s = _decode(name.strip(), encoding), _decode(email.strip(), encoding)
    return (f"{name_s} <{email_s}>" if email_s else name_s), at


def _subject(message: bytes, encoding: str) -> str:
    """git's %s: the first paragraph, its lines joined by spaces."""
    lines = _decode(message, encoding).split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    para: list[str] = []
    for line in lines:
        if not line.strip():
            break
        para.append(line.strip())
    return " ".join(para)


def _parse_tree(body: bytes) -> dict[bytes, tuple[bytes, str]]:
    entries: dict[bytes, tuple[bytes, str]] = {}
    i, n = 0, len(body)
    while i < n:
        sp = body.index(b" ", i)
        nul = body.index(b"\0", sp)
        entries[body[sp + 1 : nul]] = (body[i:sp], body[nul + 1 : nul + 21].hex())
        i = nul + 21
    return entries





