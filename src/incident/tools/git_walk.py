"""Recent commits through one long-lived `git cat-file --batch` reader per repository.

A fresh git process pays for its first look into a big pack: on a 200k-commit repository the
object index is 28 MB, and the ~150 lookups a bounded `git log -n50 --since --name-only` makes
touch a few hundred of its pages, so the same window costs about 1.3x what it costs on a 5k-commit
repository. A reader that lives as long as the triage keeps those pages mapped and the objects it
has parsed, so each later query costs what its window costs, however deep the history.

The walk follows `git log --since` exactly: commits in committer-date order over all parents; a
commit older than `since` is dropped without following its parents; one newer than `until` is
not shown but its parents are followed. Files changed are the first parent's tree diff (what
`--name-only --diff-merges=first-parent --no-renames` prints). With paths, a commit is shown when
that diff touches them (merges included), and only the matching files are listed.

Only fixed requests reach the reader: `HEAD`, and full hex object names with `~N` suffixes that
this module builds; never a value from a user, a model or a log.
"""

from __future__ import annotations

import atexit
import fnmatch
import heapq
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from incident.models import Commit

_TIMEOUT_S = 30.0
_MAX_OBJECT = 32_000_000  # an object bigger than this is skipped, not buffered
_BATCH = 400  # names per write: well inside a pipe buffer, so the write never blocks
_CHAIN_MIN, _CHAIN_MAX = 16, 256  # first-parent commits fetched per round trip
_MAX_VISIT = 20_000  # commits one query may look at (newer than `until`, or not on the paths)
_MAX_FILES = 300
_CACHE_ITEMS = 50_000
_READERS_KEPT = 4

_DIR = b"40000"
_GLOB = frozenset("*?[")


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


# ---------------------------------------------------------------- the walk


class _Walk:
    """`git log`'s date-ordered walk from HEAD, fetching first-parent chains a stretch at a time.

    A stretch is `sha`, `sha~1` ... `sha~(k-1)` in one round trip; when the walk runs past its
    end on the same chain, the next stretch is twice as long. A side branch starts short.
    """

    def __init__(self, reader: Reader, since: int | None, first: int = _CHAIN_MIN):
        self.r = reader
        self.first = max(_CHAIN_MIN, min(first, _CHAIN_MAX))
        self.since = since
        self.queue: list[tuple[int, int, str]] = []
        self.seen: set[str] = set()
        self.count = 0
        self.stretch: dict[str, int] = {}  # the commit that continues a fetched chain -> next length

    def start(self) -> None:
        self.stretch["HEAD"] = self.first
        head = self._load("HEAD")
        if head is None:
            raise WalkUnavailable("HEAD names no commit")
        self._push(head)

    def _push(self, c: _Commit) -> None:
        self.seen.add(c.sha)
        self.count += 1
        heapq.heappush(self.queue, (-c.committed, self.count, c.sha))

    def pop(self) -> _Commit | None:
        """The next commit to consider, its parents queued; None when the walk has ended."""
        while self.queue:
            _, _, sha = heapq.heappop(self.queue)
            c = self.r.commits.get(sha) or self._load(sha)
            if c is None:
                continue
            if self.since is not None and c.committed < self.since:
                continue  # git log --since: dropped, and its parents are not followed
            for p in c.parents:
                if p not in self.seen:
                    parent = self.r.commits.get(p) or self._load(p)
                    if parent is not None:  # a shallow clone's boundary has absent parents
                        self._push(parent)
            return c
        return None

    def _load(self, name: str) -> _Commit | None:
        k = self.stretch.pop(name, _CHAIN_MIN)
        found = self.r.fetch([name, *(f"{name}~{i}" for i in range(1, k))])
        chain = [c for c in map(self.r.commit, found) if c is not None]
        if len(chain) == k and chain[-1].parents:
            self.stretch[chain[-1].parents[0]] = min(2 * k, _CHAIN_MAX)
        return chain[0] if found[0] is not None else None


def recent(
    reader: Reader,
    *,
    since: datetime | None,
    until: datetime | None,
    max_count: int,
    paths: list[str] | None,
) -> list[Commit]:
    # The first stretch covers the whole answer when the history is linear and `until` is absent.
    walk = _Walk(reader, int(since.timestamp()) if since else None, first=max_count + 1)
    walk.start()
    upper = int(until.timestamp()) if until else None
    matcher = _PathMatcher(paths) if paths else None
    shown: list[tuple[_Commit, list[str]]] = []
    visited = 0
    while len(shown) < max_count:
        batch: list[_Commit] = []
        want = max_count - len(shown)
        while len(batch) < (want if matcher is None else max(want, 64)):
            c = walk.pop()
            if c is None:
                break
            visited += 1
            if upper is None or c.committed <= upper:
                batch.append(c)
        if not batch:
            break
        for c, files in zip(batch, _changed_files(reader, batch, matcher), strict=True):
            if matcher is None or files:
                shown.append((c, files))
        if visited >= _MAX_VISIT:
            break
    return [_to_model(c, files) for c, files in shown[:max_count]]


def _to_model(c: _Commit, files: list[str]) -> Commit:
    try:
        when = datetime.fromtimestamp(c.authored, UTC)
    except (ValueError, OverflowError, OSError):
        when = datetime.fromtimestamp(0, UTC)
    return Commit(sha=c.sha, authored_at=when, author=c.author, subject=c.subject, files=files[:_MAX_FILES])


# ---------------------------------------------------------------- first-parent tree diffs


class _PathMatcher:
    """git's default pathspec: a literal path or directory prefix, or a glob whose * crosses '/'."""

    def __init__(self, specs: list[str]):
        self.literal = [s.rstrip("/").encode() for s in specs if not _GLOB & set(s)]
        self.globs = [s for s in specs if _GLOB & set(s)]

    def wants_dir(self, d: bytes) -> bool:
        """Could a file under directory `d` (no trailing '/') match?"""
        if self.globs:
            return True
        return any(s == d or s.startswith(d + b"/") or d.startswith(s + b"/") for s in self.literal)

    def matches(self, path: bytes) -> bool:
        if any(path == s or path.startswith(s + b"/") for s in self.literal):
            return True
        text = path.decode("utf-8", "surrogateescape")
        return any(fnmatch.fnmatchcase(text, g) for g in self.globs)


def _changed_files(reader: Reader, commits: list[_Commit], matcher: _PathMatcher | None) -> list[list[str]]:
    """Each commit's files changed against its first parent, diffed level by level in batches."""
    known = {c.parents[0]: reader.commits.get(c.parents[0]) for c in commits if c.parents}
    missing = [p for p, c in known.items() if c is None]
    for sha, f in zip(missing, reader.fetch(missing) if missing else [], strict=True):
        known[sha] = reader.commit(f)
    parent_trees: list[str | None] = []
    for c in commits:
        parent = known.get(c.parents[0]) if c.parents else None
        parent_trees.append(parent.tree if parent else None)
    found: list[list[bytes]] = [[] for _ in commits]
    level: list[tuple[bytes, str | None, str | None, int]] = [
        (b"", pt, c.tree, i) for i, (c, pt) in enumerate(zip(commits, parent_trees, strict=True)) if pt != c.tree
    ]
    while level:
        _load_trees(reader, (s for _, a, b, _ in level for s in (a, b) if s))
        nxt: list[tuple[bytes, str | None, str | None, int]] = []
        for prefix, a, b, i in level:
            old = reader.trees.get(a, {}) if a else {}
            new = reader.trees.get(b, {}) if b else {}
            for name in old.keys() | new.keys():
                ea, eb = old.get(name), new.get(name)
                if ea == eb:
                    continue
                path = prefix + name
                da = ea is not None and ea[0] == _DIR
                db = eb is not None and eb[0] == _DIR
                if (da or db) and (matcher is None or matcher.wants_dir(path)):
                    nxt.append((path + b"/", ea[1] if da and ea else None, eb[1] if db and eb else None, i))
                if (ea is not None and not da) or (eb is not None and not db):
                    if matcher is None or matcher.matches(path):
                        found[i].append(path)
        level = nxt
    return [[p.decode("utf-8", "replace") for p in sorted(paths)] for paths in found]


def _load_trees(reader: Reader, shas: Iterable[str]) -> None:
    if len(reader.trees) > _CACHE_ITEMS:
        reader.trees.clear()  # before `need`: the level being diffed is fetched again whole
    need = list(dict.fromkeys(s for s in shas if s not in reader.trees))
    if not need:
        return
    for sha, found in zip(need, reader.fetch(need), strict=True):
        reader.trees[sha] = _parse_tree(found[1]) if found else {}
