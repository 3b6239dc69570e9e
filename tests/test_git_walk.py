"""The long-lived reader's walk answers exactly what `git log` answers, and stays correct while
the repository changes under it.

Histories are random DAGs written with `git fast-import`: branches, merges (octopus too),
equal and skewed committer dates, deletions, a directory replaced by a file, odd names.
"""

from __future__ import annotations

import os
import random
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.git_fixtures import T0, commit, git, init

from incident.models import Commit
from incident.tools import git as g
from incident.tools import git_reader

_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "HOME": os.devnull}
_NAMES = ["a.txt", "src/app.py", "src/lib/util.py", "src/lib/db.py", "docs/readme.md", "café/ü.txt",
          "odd name\twith tab.txt", 'q"uote.txt', "deep/x/y/z/file.go", "src/lib"]  # fmt: skip


def _random_history(repo: Path, seed: int, n: int = 120) -> None:
    """A fast-import stream of `n` commits over up to 4 live branches, merged back at random."""
    rnd = random.Random(seed)
    out: list[bytes] = []
    tips: list[int] = []  # marks of branch tips
    t = int(T0.timestamp())
    for mark in range(1, n + 1):
        t += rnd.choice([0, 0, 30, 60, 600, -90])  # equal stamps and clock skew both happen
        who = rnd.choice(["Ada Dev <ada@example.com>", "Bo Ops <bo@example.com>", "Cé Lia <cl@example.com>"])
        subject = f"change {mark}: {rnd.choice(['fix', 'feat', 'chore'])}\nsecond line\n\nbody {mark}\n"
        parents: list[int] = []
        if tips:
            if len(tips) > 1 and rnd.random() < 0.25:
                k = rnd.choice([2, 2, 3])
                parents = rnd.sample(tips, min(k, len(tips)))
                for p in parents[1:]:
                    tips.remove(p)
                tips.remove(parents[0])
            else:
                parents = [tips.pop(rnd.randrange(len(tips)))]
                if rnd.random() < 0.2 and len(tips) < 4:
                    tips.append(parents[0])  # branch off: the old tip stays live
        tips.append(mark)
        msg = subject.encode()
        lines = [f"commit refs/heads/b{mark}".encode(), f"mark :{mark}".encode(),
                 f"author {who} {t + rnd.choice([0, -3600])} +0100".encode(), f"committer {who} {t} +0000".encode(),
                 f"data {len(msg)}".encode() + b"\n" + msg]  # fmt: skip
        if parents:
            lines.append(f"from :{parents[0]}".encode())
            lines += [f"merge :{p}".encode() for p in parents[1:]]
        for _ in range(rnd.choice([0, 1, 1, 2, 3])):
            name = rnd.choice(_NAMES)
            quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t") + '"'
            if rnd.random() < 0.15:
                lines.append(f"D {quoted}".encode())
            elif name == "src/lib":  # a file where a directory was (and back again later)
                lines.append(b"D src/lib")
                body = f"{mark}\n".encode()
                lines.append(b"M 100644 inline src/lib\ndata " + str(len(body)).encode() + b"\n" + body)
            else:
                body = f"{mark} {rnd.random()}\n".encode()
                lines.append(f"M 100644 inline {quoted}\ndata {len(body)}\n".encode() + body)
        out.append(b"\n".join(lines) + b"\n\n")
    head = tips[-1]
    out.append(f"reset refs/heads/main\nfrom :{head}\n\n".encode())
    init(repo)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(out), check=True, env=_ENV)
    git(repo, "symbolic-ref", "HEAD", "refs/heads/main")


def _git_log(repo: Path, **kw: object) -> list[Commit]:
    """The reference: one `git log`, as recent_commits ran it before the reader existed."""
    r = g._open(repo)
    args = ["log", f"-n{kw.get('max_count', 50)}", g._FORMAT, "--name-only", "--diff-merges=first-parent",
            "--no-renames", "--encoding=UTF-8"]  # fmt: skip
    if kw.get("since"):
        args.append(f"--since={g._git_time(kw['since'])}")  # type: ignore[arg-type]
    if kw.get("until"):
        args.append(f"--until={g._git_time(kw['until'])}")  # type: ignore[arg-type]
    args += ["HEAD", "--", *kw.get("paths", [])]  # type: ignore[misc]
    return g._parse_log(g._run(r, args)[0])


def _same(got: list[Commit], want: list[Commit]) -> None:
    assert [c.sha for c in got] == [c.sha for c in want]
    for a, b in zip(got, want, strict=True):
        assert (a.subject, a.author, a.authored_at) == (b.subject, b.author, b.authored_at), a.sha
        assert sorted(a.files) == sorted(b.files), (a.sha, a.files, b.files)


@pytest.mark.parametrize("seed", range(10))
def test_the_walk_matches_git_log_on_random_histories(tmp_path: Path, seed: int) -> None:
    repo = tmp_path / "r"
    _random_history(repo, seed)
    rnd = random.Random(seed)
    for _ in range(12):
        since = T0 + timedelta(seconds=rnd.randrange(0, 7200)) if rnd.random() < 0.8 else None
        until = T0 + timedelta(seconds=rnd.randrange(3600, 12000)) if rnd.random() < 0.4 else None
        if until and since and until < since:
            since, until = until, since
        n = rnd.choice([1, 5, 50, 500])
        want = _git_log(repo, since=since or (until - g._UNTIL_ONLY_WINDOW if until else None), until=until, max_count=n)
        _same(g.recent_commits(repo, since=since, until=until, max_count=n), want)


def test_paths_on_a_linear_history_match_git_log(tmp_path: Path) -> None:
    repo = init(tmp_path / "r")
    for i in range(30):
        name = ["src/app.py", "src/lib/db.py", "docs/readme.md", "src/lib/util.py"][i % 4]
        commit(repo, f"c{i}", {name: f"{i}\n", **({"a.txt": f"{i}"} if i % 3 == 0 else {})}, T0 + timedelta(minutes=i))
    for paths in (["src/lib"], ["src/lib/"], ["src/app.py"], ["src/*.py"], ["docs", "a.txt"], ["nothing/here"]):
        for since in (None, T0 + timedelta(minutes=10)):
            _same(g.recent_commits(repo, since=since, paths=paths, max_count=5),
                  _git_log(repo, since=since, paths=paths, max_count=5))  # fmt: skip


def test_a_shallow_clone_ends_where_git_log_ends(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _random_history(src, 7, n=60)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "7", f"file://{src}", str(clone)], check=True, env=_ENV)
    _same(g.recent_commits(clone, max_count=100), _git_log(clone, max_count=100))


def test_one_reader_per_repository_sees_new_commits_and_repacks(tmp_path: Path) -> None:
    repo = init(tmp_path / "r")
    commit(repo, "first", {"a.txt": "1"}, T0)
    git_reader.close_readers()
    assert [c.subject for c in g.recent_commits(repo)] == ["first"]
    (reader,) = git_reader._readers.values()
    commit(repo, "second", {"b.txt": "2"}, T0 + timedelta(minutes=1))
    assert [c.subject for c in g.recent_commits(repo)] == ["second", "first"]
    git(repo, "gc", "-q")  # loose objects move into a pack the reader has not opened yet
    commit(repo, "third", {"a.txt": "3"}, T0 + timedelta(minutes=2))
    got = g.recent_commits(repo)
    assert [c.subject for c in got] == ["third", "second", "first"] and got[0].files == ["a.txt"]
    assert list(git_reader._readers.values()) == [reader] and reader.alive


def test_a_dead_reader_falls_back_to_git_log_then_restarts(tmp_path: Path) -> None:
    repo = init(tmp_path / "r")
    commit(repo, "first", {"a.txt": "1"}, T0)
    g.recent_commits(repo)
    (reader,) = [r for k, r in git_reader._readers.items() if k == str(g._open(repo).gitdir)]
    reader._proc.kill()
    reader._proc.wait()
    git_reader._readers[str(g._open(repo).gitdir)] = reader  # as if it died between two queries
    assert not reader.alive
    assert [c.subject for c in g.recent_commits(repo)] == ["first"]  # a new reader
    assert git_reader._readers[str(g._open(repo).gitdir)] is not reader
    reader2 = git_reader._readers[str(g._open(repo).gitdir)]
    reader2._stdin.close()  # dies in the middle of a query: the query still answers, via git log
    assert [c.subject for c in g.recent_commits(repo)] == ["first"]
    assert str(g._open(repo).gitdir) not in git_reader._readers or git_reader._readers[str(g._open(repo).gitdir)] is not reader2


def test_an_empty_repository_still_says_so(tmp_path: Path) -> None:
    repo = init(tmp_path / "empty")
    with pytest.raises(g.GitUnavailable) as e:
        g.recent_commits(repo)
    assert e.value.problem == "empty"


def test_a_commit_in_a_legacy_encoding_keeps_its_subject() -> None:
    body = (b"tree " + b"1" * 40 + b"\nauthor J\xf6rg <j@example.com> 1795262400 +0100\n"
            b"committer J\xf6rg <j@example.com> 1795262460 +0100\nencoding ISO-8859-1\n\n"
            b"\n  R\xe9paration du cache\n  suite\n\ncorps\n")  # fmt: skip
    c = git_reader._parse_commit("ab" * 20, body)
    assert c.subject == "Réparation du cache suite" and c.author == "Jörg <j@example.com>"
    assert c.committed == 1795262460 and c.parents == ()
    assert datetime.fromtimestamp(c.authored, UTC) == datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
