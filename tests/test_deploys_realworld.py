"""Deploy histories as the real tools print them, and the bad files real people hand over."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from tests.deploy_fixtures import (
    HELM_HISTORY_JSON,
    HELM_OTHER_STATUSES,
    SHAS,
    T0,
    argocd_multi_source_app,
    flux_helmrelease,
    github_graphql,
    github_rest_pages,
    helm_history,
    spinnaker_executions,
    write_json,
    z,
)
from tests.git_fixtures import commit, git, init

from incident.errors import UsageError
from incident.tools import deploys as dp
from incident.tools.deploy_values import looks_like_sha, parse_time


def by_id(deploys: list) -> dict:
    return {d.id: d for d in deploys}


def test_helm_history_as_helm_prints_it(tmp_path: Path) -> None:
    p = tmp_path / "history.json"
    p.write_text(HELM_HISTORY_JSON)
    report = dp.read_report(p, service="checkout")
    got = by_id(report.deploys)
    assert report.format == "helm" and report.skipped == 0 and list(got) == [str(i) for i in range(1, 9)]
    assert got["1"].started_at == datetime(2026, 11, 21, 13, 2, 11, 482034, tzinfo=UTC)
    assert got["2"].status == "failed" and "context deadline exceeded" in (got["2"].description or "")
    assert got["3"].rollback_of == "1" and got["6"].rollback_of == "4"
    assert got["5"].status == "rolled_back" and got["4"].status == "succeeded"  # undone by "Rollback to 4"
    assert got["7"].sha == "3f9c2e1" and got["7"].version == "3f9c2e1"  # appVersion set to the commit
    assert got["8"].sha is None and got["8"].version == "20261121" and got["8"].status == "in_progress"  # a date, not a sha
    target = dp.last_good_before(report.deploys, got["7"])
    assert target is not None and target.id == "6"


def test_every_helm_status(tmp_path: Path) -> None:
    got = by_id(dp.read_deploys(write_json(tmp_path / "cart.json", HELM_OTHER_STATUSES), service="cart"))
    assert {k: d.status for k, d in got.items()} == {
        "1": "in_progress", "2": "in_progress", "3": "succeeded", "4": "in_progress", "5": "unknown",
    }  # fmt: skip
    assert got["3"].description == "Uninstallation complete" and got["4"].version == "cart-1.0.1"


def test_argocd_multi_source_application(tmp_path: Path) -> None:
    p = write_json(tmp_path / "app.json", argocd_multi_source_app())
    got = by_id(dp.read_deploys(p))
    assert list(got)[:3] == ["0", "1", "2"]
    assert got["0"].started_at == datetime(2026, 11, 20, 10, tzinfo=UTC) and got["0"].finished_at == got["0"].started_at
    assert got["1"].sha == SHAS[1] and got["1"].version == "0.5.0" and got["1"].actor == "alice@acme.dev"
    assert got["1"].started_at == datetime(2026, 11, 21, 13, tzinfo=UTC) and got["1"].environment == "shop"
    assert got["2"].actor == "automated sync" and "charts.acme.dev" in (got["2"].description or "")
    running = [d for d in got.values() if d.status == "in_progress"]
    assert len(running) == 1 and running[0].started_at == datetime(2026, 11, 21, 13, 58, tzinfo=UTC)


def test_github_rest_pages_with_statuses_concatenated(tmp_path: Path) -> None:
    p = tmp_path / "deployments.json"
    p.write_text(github_rest_pages())
    assert dp.detect_format(p) == "github"
    got = by_id(dp.read_deploys(p))
    assert list(got) == ["101", "102", "103"]
    assert got["101"].status == "succeeded" and got["101"].finished_at == datetime(2026, 11, 21, 11, 1, tzinfo=UTC)
    assert got["102"].status == "succeeded" and got["102"].finished_at == datetime(2026, 11, 21, 13, 2, tzinfo=UTC)
    assert got["103"].status == "failed" and got["103"].actor == "deploy-bot[bot]" and got["103"].service == "checkout"
    assert got["103"].version == "main" and got["103"].sha == SHAS[103 % 9]


def test_github_graphql_deployments(tmp_path: Path) -> None:
    p = write_json(tmp_path / "gql.json", github_graphql())
    assert dp.detect_format(p) == "github"
    got = by_id(dp.read_deploys(p, service="checkout"))
    assert {k: d.status for k, d in got.items()} == {
        "201": "succeeded", "202": "succeeded", "203": "failed", "204": "in_progress", "205": "in_progress",
    }  # fmt: skip
    assert got["202"].sha == SHAS[5] and got["202"].actor == "octocat" and got["202"].service == "checkout"


def test_flux_helmrelease_history(tmp_path: Path) -> None:
    p = write_json(tmp_path / "hr.json", flux_helmrelease())
    assert dp.detect_format(p) == "flux"
    got = by_id(dp.read_deploys(p))
    assert list(got) == ["1", "2", "3", "4"] and {d.service for d in got.values()} == {"checkout"}
    assert got["3"].status == "failed" and got["4"].version == "1.17.1" and got["4"].environment == "shop"
    # The remediation after the failed upgrade brings 1.17.1 back; the failed 1.18.0 never stood,
    # so revision 2 is still a good deploy, not one a rollback undid.
    assert got["2"].status == "succeeded" and got["4"].rollback_of is None


def test_spinnaker_executions_read_as_records(tmp_path: Path) -> None:
    got = by_id(dp.read_deploys(write_json(tmp_path / "pipelines.json", spinnaker_executions())))
    assert {k: d.status for k, d in got.items()} == {"01JD1": "succeeded", "01JD2": "failed", "01JD3": "in_progress", "01JD4": "failed"}
    assert got["01JD1"].service == "checkout" and got["01JD1"].started_at == T0 - timedelta(hours=1)
    assert got["01JD1"].finished_at == T0 - timedelta(minutes=55)


def test_deploy_log_key_and_time_styles(tmp_path: Path) -> None:
    rows = [
        {"timestamp": int(T0.timestamp()), "env": "prod", "commit": SHAS[0], "user": "a"},
        {"time": str(int(T0.timestamp() * 1000)), "environment": "prod", "git_sha": SHAS[1], "author": "b"},
        {"deployed_at": format_datetime(T0), "Environment": "prod", "revision": "3f9c2e1", "deployer": "c"},
        {"deployedAt": "2026-11-21T09:00:00.000-05:00", "stage": "prod", "revision": "42", "triggered_by": {"login": "d"}},
        {"created": "2026-11-21 14:00:00 UTC", "env": "prod", "commit": {"sha": SHAS[2], "message": "fix"}, "by": "e"},
    ]
    p = tmp_path / "deploys.log"
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    got = dp.read_deploys(p)
    assert [d.started_at for d in got] == [T0] * 5 and {d.environment for d in got} == {"prod"}
    assert [d.sha for d in got] == [SHAS[0], SHAS[1], "3f9c2e1", None, SHAS[2]]
    assert [d.actor for d in got] == ["a", "b", "c", "d", "e"] and got[3].id == "42"


def test_csv_as_spreadsheets_export_it(tmp_path: Path) -> None:
    p = tmp_path / "deploys.csv"
    body = "\ufeffDeployed At;Service Name;Git SHA;Deployed By;Result\r\n" + "".join(
        f"{t};checkout;{SHAS[i]};dana;{r}\r\n"
        for i, (t, r) in enumerate([("2026/11/21 14:00:00", "Success"), ("2026-11-21 15:00:00+01:00", "FAILED"), ("1795269600", "ok")])
    )
    p.write_bytes(body.encode("utf-8"))
    got = dp.read_deploys(p)
    assert [d.started_at for d in got] == [T0, T0, datetime.fromtimestamp(1795269600, UTC)]
    assert [d.status for d in got] == ["succeeded", "failed", "succeeded"] and got[0].actor == "dana"


def test_git_release_tags_annotated_lightweight_and_per_service(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    commit(repo, "one", {"a": "1"}, T0 - timedelta(days=2))
    git(repo, "tag", "v1.0.0", at=T0 - timedelta(hours=5))  # lightweight: the commit's time
    commit(repo, "two", {"a": "2"}, T0 - timedelta(days=1))
    git(repo, "tag", "-a", "-m", "release 1.1", "v1.1.0", at=T0 - timedelta(hours=1))  # annotated: the tagger's time
    git(repo, "tag", "not-a-release", at=T0)
    got = by_id(dp.deploys_from_tags(repo, service="shop"))
    assert list(got) == ["v1.0.0", "v1.1.0"]
    assert got["v1.0.0"].started_at == T0 - timedelta(days=2) and got["v1.1.0"].started_at == T0 - timedelta(hours=1)
    assert got["v1.1.0"].sha == git(repo, "rev-parse", "HEAD").strip() and got["v1.1.0"].status == "unknown"
    git(repo, "tag", "-a", "-m", "checkout release", "checkout/v2.0.0", at=T0)
    git(repo, "tag", "checkout-v1.9.0", "HEAD~1")
    assert [d.id for d in dp.deploys_from_tags(repo, service="checkout")] == ["checkout-v1.9.0", "checkout/v2.0.0"]
    assert [d.id for d in dp.deploys_from_tags(repo, "not-*")] == ["not-a-release"]


def test_looks_like_sha_and_times_out_of_range() -> None:
    assert looks_like_sha("3f9c2e1") and looks_like_sha("1" * 40) and not looks_like_sha("20261121")
    assert not looks_like_sha("deadbeef") and not looks_like_sha("v1.2.3")
    assert parse_time("0001-01-01T00:00:00Z") is None and parse_time("2026-11-21 14:00:00 UTC") == T0
    assert parse_time("2026/11/21 14:00:00") == T0 and parse_time("9999-12-31T00:00:00Z") is None


# ---------------------------------------------------------------- bad input


def test_truncated_json_says_so(tmp_path: Path) -> None:
    p = tmp_path / "history.json"
    p.write_text(HELM_HISTORY_JSON[:700])
    with pytest.raises(UsageError, match=r"history.json: the JSON ends at line 1 before the document does \(truncated\?\)"):
        dp.read_deploys(p)
    broken = tmp_path / "broken.json"
    broken.write_text('[{"revision": 1,, "updated": "2026-11-21T14:00:00Z"}]')
    with pytest.raises(UsageError, match=r"broken.json: .*entry 1: not valid JSON at line 1 \(Expecting property name"):
        dp.read_deploys(broken)
    big = tmp_path / "records.json"  # an array of deploy-log records, cut mid-way: what was read is kept
    rows = [{"at": z(T0 + timedelta(minutes=i)), "id": f"d{i}", "description": "x" * 300} for i in range(5000)]
    big.write_text(json.dumps(rows, indent=1)[:-40_000])
    report = dp.read_report(big)
    assert 4000 < len(report.deploys) < 5000 and report.skipped == 1 and "truncated?" in report.first_problem


@pytest.mark.parametrize(
    ("forced", "looks"),
    [("csv", "helm"), ("jsonl", "helm"), ("argocd", "helm"), ("github", "helm"), ("heroku", "helm"), ("flux", "helm")],
)
def test_a_wrong_format_names_the_one_it_looks_like(tmp_path: Path, forced: str, looks: str) -> None:
    p = write_json(tmp_path / "history.json", helm_history())
    with pytest.raises(UsageError) as e:
        dp.read_deploys(p, forced)
    assert e.value.message.startswith(str(p)) and f"it looks like {looks}: use --deploys-format {looks}" in e.value.hint


def test_csv_forced_on_a_csv_without_a_time_column(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_text("service,version\ncheckout,1.2\n")
    with pytest.raises(UsageError, match=r"d.csv: no time column in the CSV header \(service, version\)"):
        dp.read_deploys(p, "csv")
    headerless = tmp_path / "h.csv"
    headerless.write_text(f"{z(T0)},checkout,1.2\n")
    with pytest.raises(UsageError, match="h.csv: a CSV without a header row"):
        dp.read_deploys(headerless)


def test_empty_bom_crlf_and_utf16_files(tmp_path: Path) -> None:
    for name, data in [("empty.json", b""), ("blank.jsonl", b"\r\n \n"), ("bom-only.json", b"\xef\xbb\xbf\r\n")]:
        report = dp.read_report(tmp_path.joinpath(name), None) if tmp_path.joinpath(name).write_bytes(data) is not None else None
        assert report is not None and report.deploys == [] and report.summary() == "empty file, no deploys"
    lines = "".join(json.dumps({"at": z(T0 + timedelta(minutes=i)), "id": f"d{i}"}) + "\r\n" for i in range(3))
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + lines.encode())
    assert [d.id for d in dp.read_deploys(bom)] == ["d0", "d1", "d2"] and dp.read_report(bom).skipped == 0
    for enc in ("utf-16", "utf-16-le"):  # PowerShell 5's `>`: UTF-16 with a BOM; some tools without
        u16 = tmp_path / f"history-{enc}.json"
        u16.write_bytes(HELM_HISTORY_JSON.encode(enc))
        assert len(dp.read_deploys(u16)) == 8, enc
    gz16 = tmp_path / "deploys.jsonl.gz"
    gz16.write_bytes(gzip.compress(lines.encode("utf-16")))
    assert len(dp.read_deploys(gz16)) == 3


def test_the_cli_reports_bad_files_in_one_line(cli, tmp_path: Path) -> None:
    p = tmp_path / "history.json"
    p.write_text(HELM_HISTORY_JSON[:300])
    code, out, err = cli("deploys", str(p))
    assert code == 2 and "truncated" in err and "Traceback" not in err + out
    code, out, err = cli("deploys", str(p), "--deploys-format", "csv", "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "usage"
    empty = tmp_path / "empty.json"
    empty.write_text("")
    code, out, err = cli("deploys", str(empty), "--json")
    assert code == 0 and json.loads(out)["deploys"] == [] and json.loads(out)["sources"][0]["detail"] == "empty file, no deploys"
