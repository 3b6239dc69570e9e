"""A cloned repository's config is attacker data: nothing in it may make our git calls run a program."""

from __future__ import annotations

import os
import stat
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from tests.git_fixtures import T0, commit, git, init

from incident.tools import git as g


def _trap(repo: Path, marker: Path) -> None:
    script = repo.parent / "trap.sh"
    script.write_text(f"#!/bin/sh\necho \"$0 $*\" >> {marker}\ncat >/dev/null 2>&1\nexit 0\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    for key, value in [
        ("core.fsmonitor", str(script)),
        ("core.pager", str(script)),
        ("diff.external", str(script)),
        ("diff.evil.textconv", str(script)),
        ("diff.evil.command", str(script)),
        ("log.showSignature", "true"),
        ("gpg.program", str(script)),
        ("gpg.format", "openpgp"),
    ]:
        git(repo, "config", key, value)
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "attributes").write_text("* diff=evil\n")


def _signed_commit(repo: Path) -> str:
    """A commit carrying a (bogus) gpgsig header, so --show-signature would start gpg.program."""
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    parent = git(repo, "rev-parse", "HEAD").strip()
    stamp = int((T0 + timedelta(minutes=1)).timestamp())
    body = (
        f"tree {tree}\nparent {parent}\nauthor Eve <eve@example.com> {stamp} +0000\n"
        f"committer Eve <eve@example.com> {stamp} +0000\n"
        "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\nsigned change\n"
    )
    sha = git(repo, "hash-object", "-w", "-t", "commit", "--stdin", input=body.encode()).strip()
    git(repo, "update-ref", "refs/heads/main", sha)
    return sha


@pytest.fixture()
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    repo = init(tmp_path / "repo")
    commit(repo, "first", {"a.txt": "one\n"}, T0 - timedelta(minutes=5))
    commit(repo, "second", {"a.txt": "two\n"}, T0)
    marker = tmp_path / "PWNED"
    _trap(repo, marker)
    _signed_commit(repo)
    return repo, marker


def test_the_trap_is_real(hostile: tuple[Path, Path]) -> None:
    # Control: plain git (what a naive tool would run) does start the repo's programs.
    repo, marker = hostile
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": os.devnull}
    subprocess.run(["git", "log", "-p", "-n2"], cwd=repo, env=env, capture_output=True, check=False)
    assert marker.exists()


def test_no_repo_config_runs_anything(hostile: tuple[Path, Path]) -> None:
    repo, marker = hostile
    commits = g.recent_commits(repo, max_count=5)
    assert [c.subject for c in commits] == ["signed change", "second", "first"]
    detail = g.commit_detail(repo, "HEAD~1")
    assert "-one" in detail.diff and "+two" in detail.diff
    assert g.commits_between(repo, "HEAD~2", "HEAD")[0].subject == "signed change"
    g.list_tags(repo)
    assert not marker.exists(), marker.read_text()
