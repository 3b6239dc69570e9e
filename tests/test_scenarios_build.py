"""The scenario builder makes real, readable inputs: a git repo, deploy histories, logs."""

from __future__ import annotations

import csv
import gzip
import json
import time
from datetime import timedelta
from pathlib import Path

import git
import pytest

from incident.scenario import DeploySpec, FailureSpec, ScenarioSpec, build_example, build_scenario


def test_example_builds_fast_and_git_reads_it(tmp_path: Path) -> None:
    t = time.perf_counter()
    paths = build_example(tmp_path / "ex")
    assert time.perf_counter() - t < 1.0
    repo = git.Repo(paths.repo)
    assert not repo.is_dirty(untracked_files=True)
    head = repo.head.commit
    assert head.hexsha == paths.expected["shas"]["6"]  # type: ignore[index]
    assert list(head.stats.files) == ["checkout/shipping.py"]
    assert "address.region" in (paths.repo / "checkout/shipping.py").read_text()
    assert "checkout-v1.6.1" in [t.name for t in repo.tags]


def test_example_history_and_logs(tmp_path: Path) -> None:
    paths = build_example(tmp_path / "ex")
    history = json.loads(paths.deploys.read_text())
    assert [h["revision"] for h in history] == [1, 2, 3, 4, 5, 6]
    assert [h["status"] for h in history][-2:] == ["failed", "deployed"]
    text = Path(paths.logs[0]).read_text()
    onset = paths.expected["onset"]
    first = next(line for line in text.splitlines() if "AttributeError" in line or "unhandled" in line)
    assert first.startswith(onset.strftime("%Y-%m-%dT%H:%M"))  # type: ignore[attr-defined]
    assert 'File "/app/checkout/shipping.py", line 7, in quote' in text
    assert paths.now == onset + timedelta(minutes=8)  # type: ignore[operator]


def test_same_spec_same_bytes(tmp_path: Path) -> None:
    a = build_example(tmp_path / "a")
    b = build_example(tmp_path / "b")
    assert Path(a.logs[0]).read_bytes() == Path(b.logs[0]).read_bytes()
    assert a.expected["shas"] == b.expected["shas"]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "helm", "argocd", "heroku", "github"])
def test_every_deploy_format_is_parseable(tmp_path: Path, fmt: str) -> None:
    spec = ScenarioSpec(
        deploys_format=fmt,  # type: ignore[arg-type]
        deploys=(DeploySpec("10", -120, version="2.0.0"), DeploySpec("11", -3, version="2.0.1"),
                 DeploySpec("12", 20, rollback_to="10")),
        recovered_minutes=22, now_minutes=40,
    )
    paths = build_scenario(tmp_path, spec)
    raw = paths.deploys.read_text()
    if fmt == "jsonl":
        rows = [json.loads(line) for line in raw.splitlines()]
        assert [r["id"] for r in rows] == ["10", "11", "12"] and rows[2]["rollback_of"] == "10"
        assert rows[2]["sha"] == rows[0]["sha"]
    elif fmt == "csv":
        rows = list(csv.DictReader(raw.splitlines()))
        assert [r["id"] for r in rows] == ["10", "11", "12"]
    else:
        data = json.loads(raw)
        assert data


def test_rotated_gz_timezone_and_access_log(tmp_path: Path) -> None:
    spec = ScenarioSpec(rotated_gz=True, access_log=True, log_utc_offset_hours=-5,
                        deploys=(DeploySpec("1", -2, files={"checkout/shipping.py": "x = 1\n"}),))
    paths = build_scenario(tmp_path, spec)
    logs = tmp_path / "logs"
    assert sorted(p.name for p in logs.iterdir()) == ["access.log", "app.log", "app.log.1.gz", "app.log.2.gz"]
    middle = gzip.open(logs / "app.log.1.gz", "rt").read()
    assert "-05:00" in middle and "AttributeError" in middle
    assert "-0500]" in (logs / "access.log").read_text()
    assert paths.logs == [str(logs / "app.log*"), str(logs / "access.log")]


def test_external_failure_names_no_repo_file_change(tmp_path: Path) -> None:
    spec = ScenarioSpec(failure=FailureSpec(kind="external", exception="httpx.ReadTimeout: timed out"))
    paths = build_scenario(tmp_path, spec)
    text = Path(paths.logs[0]).read_text()
    assert "httpx.ReadTimeout" in text and "status=504" in text
    assert paths.deploys.read_text() == ""
