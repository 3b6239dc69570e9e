"""Recent commits, walked from HEAD on the repository's long-lived reader (see git_reader).

The walk follows `git log --since` exactly: commits in committer-date order over all parents; a
commit older than `since` is dropped without following its parents; one newer than `until` is
not shown but its parents are followed. Files changed are the first parent's tree diff (what
`--name-only --diff-merges=first-parent --no-renames` prints). With paths, a commit is shown when
that diff touches them (merges included), and only the matching files are listed.
"""

from __future__ import annotations

import fnmatch
import heapq
from datetime import UTC, datetime

from incident.models import Commit
from incident.tools.git_reader import Reader, WalkUnavailable, _Commit

_CHAIN_MIN, _CHAIN_MAX = 16, 256  # first-parent commits fetched per round trip
_MAX_VISIT = 20_000  # commits one query may look at (newer than `until`, or not on the paths)
_MAX_FILES = 300
_DIR = b"40000"
_GLOB = frozenset("*?[")


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
        reader.load_trees((s for _, a, b, _ in level for s in (a, b) if s))
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
