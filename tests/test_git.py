from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from tests.git_fixtures import T0, FastCommit, commit, fast_import, git, history, init

from incident.clock import frozen_clock
from incident.errors import NotFound, UsageError
from incident.tools import git as g
from incident.tools.base import Roots, Toolbox, ToolContext


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    r = init(tmp_path / "svc")
    fast_import(r, history(40))  # one commit every 10 minutes, the last at T0
    commit(r, "fix: retry budget", {"src/retry.py": "budget = 3\n", "docs/notes.md": "x\n"}, T0 + timedelta(minutes=5))
    return r


def test_recent_commits_window_newest_first(repo: Path) -> None:
    got = g.recent_commits(repo, since=T0 - timedelta(minutes=25), until=T0 + timedelta(hours=1))
    assert [c.subject for c in got] == ["fix: retry budget", "change 39", "change 38", "change 37"]
    first = got[0]
    assert first.authored_at == T0 + timedelta(minutes=5)
    assert first.author == "Ada Dev <ada@example.com>"
    assert first.files == ["docs/notes.md", "src/retry.py"]
    assert len(first.sha) == 40


def test_recent_commits_max_count_and_paths(repo: Path) -> None:
    assert len(g.recent_commits(repo, max_count=3)) == 3
    only = g.recent_commits(repo, since=T0 - timedelta(hours=2), paths=["src/mod3.py"])
    assert only and all(c.files == ["src/mod3.py"] for c in only)


def test_until_without_since_is_still_bounded(repo: Path) -> None:
    got = g.recent_commits(repo, until=T0 - timedelta(minutes=30), max_count=2)
    assert [c.subject for c in got] == ["change 36", "change 35"]


def test_commit_detail_stat_and_bounded_diff(repo: Path) -> None:
    big = "\n".join(f"line {i}" for i in range(5000))
    sha = commit(repo, "feat: big", {"big.txt": big}, T0 + timedelta(minutes=6))
    d = g.commit_detail(repo, sha[:10], max_diff_chars=1000)
    assert d.commit.sha == sha and d.commit.subject == "feat: big"
    assert "big.txt" in d.stat and "5000" in d.stat
    assert d.truncated and len(d.diff) == 1000 and d.diff.startswith("diff --git a/big.txt b/big.txt")
    small = g.commit_detail(repo, "HEAD~1")
    assert not small.truncated and "+budget = 3" in small.diff


def test_commits_between(repo: Path) -> None:
    git(repo, "tag", "v1", "HEAD~3")
    got = g.commits_between(repo, "v1", "HEAD")
    assert [c.subject for c in got] == ["fix: retry budget", "change 39", "change 38"]
    with pytest.raises(NotFound):
        g.commits_between(repo, "nope", "HEAD")


def test_list_tags_pattern_peeled_newest_first(repo: Path) -> None:
    git(repo, "tag", "v1.0", "HEAD~2", at=T0 - timedelta(hours=1))
    git(repo, "tag", "-a", "-m", "release", "v1.1", "HEAD", at=T0 + timedelta(minutes=7))
    git(repo, "tag", "other", "HEAD")
    head = git(repo, "rev-parse", "HEAD").strip()
    tags = g.list_tags(repo, "v*")
    assert [t.name for t in tags] == ["v1.1", "v1.0"]
    assert tags[0].sha == head and tags[0].at == T0 + timedelta(minutes=7)
    assert len(g.list_tags(repo, "*")) == 3
    assert g.list_tags(repo, "nomatch*") == []


@pytest.mark.parametrize("ref", ["--output=/tmp/x", "-p", "HEAD..main", "$(id)", "a b", "x\x00y", ":/fix", "A" * 300, ";rm -rf /"])
def test_hostile_refs_are_refused(repo: Path, ref: str) -> None:
    with pytest.raises(UsageError):
        g.commit_detail(repo, ref)
    with pytest.raises(UsageError):
        g.commits_between(repo, ref, "HEAD")


@pytest.mark.parametrize("pattern", ["--sort=x", "-v", "a b", "../x", "$(id)"])
def test_hostile_tag_patterns_are_refused(repo: Path, pattern: str) -> None:
    with pytest.raises(UsageError):
        g.list_tags(repo, pattern)


def test_pathspec_that_looks_like_an_option_is_a_path(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "x"
    assert g.recent_commits(repo, paths=[f"--output={out}"]) == []
    assert not out.exists()
    with pytest.raises(UsageError):
        g.recent_commits(repo, paths=["a\x00b"])


def test_empty_repo_not_repo_file_and_missing(tmp_path: Path) -> None:
    empty = init(tmp_path / "empty")
    with pytest.raises(g.GitUnavailable) as e:
        g.recent_commits(empty)
    assert e.value.problem == "empty" and "no commits" in e.value.message
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(g.GitUnavailable) as e:
        g.recent_commits(plain)
    assert e.value.problem == "not_repo"
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(g.GitUnavailable, match="is a file"):
        g.list_tags(f)
    with pytest.raises(g.GitUnavailable, match="no such directory"):
        g.recent_commits(tmp_path / "missing")


def test_subdirectory_of_a_repo_is_not_discovered_upwards(repo: Path) -> None:
    # Discovery would read the parent's .git, which may lie outside the read roots.
    with pytest.raises(g.GitUnavailable) as e:
        g.recent_commits(repo / "src")
    assert e.value.problem == "not_repo"


def test_detached_head_shallow_clone_and_bare(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "--detach", "HEAD~2")
    assert g.recent_commits(repo, max_count=1)[0].subject == "change 38"
    git(repo, "checkout", "-q", "main")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{repo}", str(shallow))
    assert [c.subject for c in g.recent_commits(shallow, max_count=10)] == ["fix: retry budget", "change 39"]
    with pytest.raises(NotFound) as e:
        g.commit_detail(shallow, git(repo, "rev-parse", "HEAD~5").strip())
    assert "unshallow" in e.value.hint
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    assert g.recent_commits(bare, max_count=1)[0].subject == "fix: retry budget"


def test_merge_commits_list_first_parent_files(tmp_path: Path) -> None:
    r = init(tmp_path / "m")
    commit(r, "base", {"a.txt": "1\n"}, T0)
    git(r, "checkout", "-q", "-b", "topic")
    commit(r, "topic work", {"b.txt": "2\n"}, T0 + timedelta(minutes=1))
    git(r, "checkout", "-q", "main")
    commit(r, "main work", {"c.txt": "3\n"}, T0 + timedelta(minutes=2))
    git(r, "merge", "-q", "--no-ff", "-m", "merge topic", "topic", at=T0 + timedelta(minutes=3))
    got = g.recent_commits(r)
    assert got[0].subject == "merge topic" and got[0].files == ["b.txt"]
    assert {c.subject for c in got} == {"merge topic", "main work", "topic work", "base"}


def test_odd_file_names_and_non_utf8_subject(tmp_path: Path) -> None:
    r = init(tmp_path / "odd")
    fast_import(r, [FastCommit(at=T0, subject="caf\u00e9 \x1b[31mred", files={"d\u00e9j\u00e0 vu.txt": "x", "tab\there": "y"})])
    c = g.recent_commits(r)[0]
    assert "caf\u00e9" in c.subject
    assert sorted(c.files) == ["d\u00e9j\u00e0 vu.txt", "tab\there"]


def test_tools_in_a_toolbox(repo: Path, tmp_path: Path) -> None:
    ctx = ToolContext(roots=Roots.of(tmp_path), repo=repo, clock=frozen_clock(T0 + timedelta(minutes=10)))
    box = Toolbox(ctx, g.TOOLS)
    assert sorted(box.tools) == ["commits_between", "list_tags", "recent_commits", "show_commit"]
    res = box.run("recent_commits", {"since": "30m"})
    assert res.status == "ok" and "fix: retry budget" in res.text and len(res.data) == 4
    assert box.run("recent_commits", {"since": "1m"}).status == "no_data"
    res = box.run("show_commit", {"ref": "HEAD"})
    assert res.status == "ok" and "+budget = 3" in res.text
    res = box.run("show_commit", {"ref": "--output=/tmp/x"})
    assert res.status == "error" and "refused git ref" in res.text
    assert box.run("commits_between", {"base": "HEAD~2"}).data[0].subject == "fix: retry budget"
    assert box.run("list_tags", {}).status == "no_data"
    assert box.run("recent_commits", {"since": "yesterday-ish"}).status == "error"


def test_tool_refuses_repo_outside_roots_and_reports_empty_as_no_data(repo: Path, tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    box = Toolbox(ToolContext(roots=Roots.of(allowed), repo=repo), g.TOOLS)
    res = box.run("recent_commits", {})
    assert res.status == "error" and "outside the configured read roots" in res.text
    empty = init(allowed / "empty")
    res = Toolbox(ToolContext(roots=Roots.of(allowed), repo=empty), g.TOOLS).run("recent_commits", {})
    assert res.status == "no_data" and "no commits" in res.text
    res = Toolbox(ToolContext(roots=Roots.of(allowed)), g.TOOLS).run("list_tags", {})
    assert res.status == "error" and "no repository" in res.text


def test_worktree_gitfile_pointing_outside_roots_is_refused(repo: Path, tmp_path: Path) -> None:
    inside = tmp_path / "inside"
    inside.mkdir()
    git(repo, "worktree", "add", "-q", str(inside / "wt"))
    res = Toolbox(ToolContext(roots=Roots.of(inside), repo=inside / "wt"), g.TOOLS).run("recent_commits", {"since": "30d"})
    assert res.status == "error" and "outside the read roots" in res.text
