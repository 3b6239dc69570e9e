from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from tests.deploy_fixtures import SHAS, T0, helm_history, heroku_releases, write_json, z
from tests.git_fixtures import commit, git, init

from incident.clock import frozen_clock
from incident.models import Deploy
from incident.tools import deploys as dp
from incident.tools.base import Roots, Toolbox, ToolContext


def D(i: str, minutes: int, status: str = "succeeded", **kw: object) -> Deploy:
    return Deploy(id=i, service=kw.pop("service", "api"), started_at=T0 + timedelta(minutes=minutes), status=status, **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- last_good_before


def test_last_good_skips_failed_in_progress_and_other_services() -> None:
    ds = [D("1", 0), D("2", 10, "failed"), D("w", 15, service="web"), D("3", 20, "in_progress"), D("4", 30)]
    assert dp.last_good_before(ds, ds[-1]).id == "1"
    assert dp.last_good_before(ds, ds[0]) is None


def test_last_good_skips_deploys_undone_by_a_rollback() -> None:
    ds = [D("1", 0, version="1.0"), D("2", 10, version="1.1"), D("3", 20, version="1.2"), D("4", 30, rollback_of="1", version="1.0"), D("5", 40, version="1.3")]
    assert dp.last_good_before(ds, ds[-1]).id == "4"
    # Suspect the rollback itself: it undid 2 and 3, and 1 ships the very same version: nothing to go back to.
    assert dp.last_good_before(ds, ds[3]) is None


def test_last_good_skips_same_sha_and_respects_environment() -> None:
    ds = [
        D("1", 0, sha=SHAS[0], environment="prod"),
        D("2", 5, sha=SHAS[1], environment="staging"),
        D("3", 10, sha=SHAS[1], environment="prod"),
        D("4", 20, sha=SHAS[1], environment="prod"),  # a re-run of 3
    ]
    assert dp.last_good_before(ds, ds[3]).id == "1"
    assert dp.last_good_before(ds, ds[1]) is None


def test_last_good_on_real_exports(tmp_path: Path) -> None:
    helm = dp.read_deploys(write_json(tmp_path / "h.json", helm_history()), service="checkout")
    by = {d.id: d for d in helm}
    assert dp.last_good_before(helm, by["7"]).id == "6"
    # 5 was rolled back, 4 failed, 3 ships the same app version as 6 (6 is "Rollback to 3")
    assert dp.last_good_before(helm, by["6"]).id == "2"
    assert dp.last_good_before(helm, by["5"]).id == "3"
    heroku = dp.read_deploys(write_json(tmp_path / "r.json", heroku_releases()))
    hb = {d.id: d for d in heroku}
    assert dp.last_good_before(heroku, hb["45"]).id == "44"
    assert dp.last_good_before(heroku, hb["44"]).id == "41"


def test_rolled_back_from_alias_marks_the_undone_deploy(tmp_path: Path) -> None:
    p = tmp_path / "d.jsonl"
    rows = [
        {"at": z(T0), "service": "api", "id": "a", "sha": SHAS[0]},
        {"at": z(T0 + timedelta(minutes=5)), "service": "api", "id": "b", "sha": SHAS[1]},
        {"at": z(T0 + timedelta(minutes=9)), "service": "api", "id": "c", "sha": SHAS[2], "rolled_back_from": "b"},
    ]
    p.write_text("\n".join(json.dumps(r) for r in rows))
    got = {d.id: d for d in dp.read_deploys(p)}
    assert got["b"].status == "rolled_back" and got["a"].status == "unknown" and got["c"].status == "unknown"


# ---------------------------------------------------------------- tags, load_deploys, the tool


@pytest.fixture()
def tagged(tmp_path: Path) -> Path:
    repo = init(tmp_path / "root" / "svc")
    commit(repo, "one", {"a": "1"}, T0 - timedelta(hours=3))
    git(repo, "tag", "v1.0.0", at=T0 - timedelta(hours=3))
    commit(repo, "two", {"a": "2"}, T0 - timedelta(hours=1))
    git(repo, "tag", "-a", "-m", "release", "v1.1.0", at=T0 - timedelta(hours=1))
    git(repo, "tag", "nightly", at=T0)
    return repo


def test_deploys_from_tags(tagged: Path) -> None:
    got = dp.deploys_from_tags(tagged, service="api")
    assert [d.id for d in got] == ["v1.0.0", "v1.1.0"]
    assert got[1].started_at == T0 - timedelta(hours=1) and got[1].source == "git-tags" and got[1].service == "api"
    assert got[1].sha == git(tagged, "rev-parse", "HEAD").strip()


def test_load_deploys_reads_in_roots_and_notes_the_rest(tmp_path: Path, tagged: Path) -> None:
    root = tmp_path / "root"
    helm = write_json(root / "helm.json", helm_history())
    bad = root / "bad.jsonl"
    bad.write_text("{nope\n")
    outside = write_json(tmp_path / "outside.json", heroku_releases())
    link = root / "link.json"
    os.symlink(outside, link)
    ctx = ToolContext(roots=Roots.of(root), deploy_paths=[str(helm), str(bad), str(outside), str(link), str(root / "missing.json")], service="checkout")
    deploys, notes = dp.load_deploys(ctx)
    assert [d.id for d in deploys] == [str(i) for i in range(1, 9)] and {d.service for d in deploys} == {"checkout"}
    by_path = {n.path: n for n in notes}
    assert by_path[str(helm)].detail.startswith("8 deploys (helm)")
    assert "bad.jsonl: not valid JSON at line 1" in by_path[str(bad)].reason and not by_path[str(bad)].refused
    assert by_path[str(outside)].refused and "outside" in by_path[str(outside)].reason
    assert by_path[str(link)].refused and "is a link to" in by_path[str(link)].hint
    assert by_path[str(root / "missing.json")].refused
    tags_ctx = ToolContext(roots=Roots.of(root), repo=tagged, deploys_format="git-tags", service="api")
    deploys, notes = dp.load_deploys(tags_ctx)
    assert [d.id for d in deploys] == ["v1.0.0", "v1.1.0"] and "2 release tags" in notes[0].detail


def test_load_deploys_expands_globs_oldest_first(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.jsonl").write_text(json.dumps({"at": z(T0), "id": "late", "service": "a"}))
    (tmp_path / "d" / "b.jsonl").write_text(json.dumps({"at": z(T0 - timedelta(hours=1)), "id": "early", "service": "b"}))
    ctx = ToolContext(roots=Roots.of(tmp_path), deploy_paths=[str(tmp_path / "d" / "*.jsonl")])
    deploys, notes = dp.load_deploys(ctx)
    assert [d.id for d in deploys] == ["early", "late"] and len(notes) == 2


def test_deploy_history_tool(tmp_path: Path) -> None:
    helm = write_json(tmp_path / "helm.json", helm_history())
    ctx = ToolContext(roots=Roots.of(tmp_path), deploy_paths=[str(helm), str(tmp_path / "nope.json")], service="checkout", clock=frozen_clock(T0))
    box = Toolbox(ctx, dp.TOOLS)
    res = box.run("deploy_history", {"since": "1h"})
    assert res.status == "ok"
    assert [d.id for d in res.data["deploys"]] == ["4", "5", "6", "7", "8"]
    assert "id=6" in res.text and "(rollback to 3)" in res.text and "failed" in res.text and "nope.json" in res.text
    assert box.run("deploy_history", {"since": "1h", "max_count": 2}).data["deploys"][0].id == "7"
    assert box.run("deploy_history", {"service": "web"}).status == "no_data"
    assert box.run("deploy_history", {"since": "whenever"}).status == "error"
    assert box.run("deploy_history", {"extra": 1}).status == "error"
    res = Toolbox(ToolContext(roots=Roots.of(tmp_path), clock=frozen_clock(T0)), dp.TOOLS).run("deploy_history", {})
    assert res.status == "error" and "no deploy history is configured" in res.text


# ---------------------------------------------------------------- scale


def _big_log(path: Path, n: int) -> None:
    with path.open("w") as f:
        for i in range(n):
            at = T0 + timedelta(seconds=30 * i)
            f.write(f'{{"at": "{z(at)}", "service": "svc{i % 40}", "id": "d-{i}", "version": "1.{i}", "sha": "{i:040x}", "status": "success", "actor": "ci"}}\n')
            if i % 50_000 == 7:
                f.write("garbage line\n")


def test_large_deploy_log_streams_with_bounded_result(tmp_path: Path) -> None:
    p = tmp_path / "big.jsonl"
    _big_log(p, 100_000)
    t = time.perf_counter()
    report = dp.read_report(p)
    elapsed = time.perf_counter() - t
    assert len(report.deploys) == dp.MAX_KEEP and report.dropped_old == 100_000 - dp.MAX_KEEP
    assert report.deploys[-1].id == "d-99999" and report.deploys[0].id == f"d-{100_000 - dp.MAX_KEEP}"
    assert report.skipped == 2
    assert elapsed < 8, elapsed


@pytest.mark.slow
def test_million_row_deploy_log(tmp_path: Path) -> None:
    p = tmp_path / "huge.jsonl"
    _big_log(p, 1_000_000)
    t = time.perf_counter()
    report = dp.read_report(p)
    elapsed = time.perf_counter() - t
    assert report.deploys[-1].id == "d-999999" and report.skipped == 20
    assert elapsed < 20, elapsed
