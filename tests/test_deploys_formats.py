from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from tests.deploy_fixtures import (
    SHAS,
    T0,
    argocd_app,
    github_deployments,
    helm_history,
    heroku_releases,
    write_json,
    z,
)

from incident.errors import UsageError
from incident.tools import deploys as dp
from incident.tools.deploy_formats import parse_time


def by_id(deploys: list) -> dict:
    return {d.id: d for d in deploys}


# ---------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-21T14:00:00Z", T0),
        ("2026-11-21T14:00:00.123456789Z", T0.replace(microsecond=123456)),
        ("2026-11-21 15:00:00+01:00", T0),
        ("2026-11-21T15:00:00+0100", T0),
        ("2026-11-21T14:00:00", T0),
        ("2026-11-21 14:00:00.5 +0000 UTC", T0.replace(microsecond=500000)),
        ("2026-11-21 14:00:00 +0000 UTC m=+0.000000001", T0),
        ("Sat, 21 Nov 2026 14:00:00 GMT", T0),
        ("Sat Nov 21 14:00:00 2026", T0),
        (int(T0.timestamp()), T0),
        (str(int(T0.timestamp() * 1000)), T0),
        (T0.timestamp() * 1e9, T0),
        ("nonsense", None),
        ("", None),
        (True, None),
        (-5, None),
        ("9" * 30, None),
    ],
)
def test_parse_time(value: object, expected: datetime | None) -> None:
    got = parse_time(value)
    assert got == expected
    assert got is None or got.tzinfo is not None


# ---------------------------------------------------------------- deploy logs


def test_jsonl_canonical_keys(tmp_path: Path) -> None:
    rows = [
        {"at": z(T0 - timedelta(hours=2)), "service": "checkout", "id": "d-1", "version": "1.4.0", "sha": SHAS[0], "status": "success",
         "actor": "alice", "description": "weekly release", "environment": "prod"},
        {"at": z(T0), "service": "checkout", "id": "d-2", "version": "1.5.0", "sha": SHAS[1], "status": "failed", "actor": "bob"},
    ]  # fmt: skip
    p = tmp_path / "deploys.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    got = dp.read_deploys(p)
    assert [d.id for d in got] == ["d-1", "d-2"]
    assert got[0].status == "succeeded" and got[0].environment == "prod" and got[0].actor == "alice" and got[0].source == "jsonl"
    assert got[1].status == "failed" and got[1].started_at == T0 and got[1].sha == SHAS[1]


@pytest.mark.parametrize(
    "row",
    [
        {"timestamp": "2026-11-21T14:00:00Z", "app": "checkout", "revision": "r9", "commit": SHAS[2], "state": "succeeded", "user": "eve",
         "message": "hotfix", "env": "prod"},
        {"deployed_at": int(T0.timestamp()), "application": "checkout", "deploy_id": "r9", "git_sha": SHAS[2], "result": "ok", "deployer": "eve",
         "notes": "hotfix", "stage": "prod"},
        {"createdAt": "2026-11-21T14:00:00.000Z", "component": "checkout", "release": "r9", "gitSha": SHAS[2], "outcome": "SUCCESS",
         "author": {"email": "eve"}, "change-cause": "hotfix", "Environment": "prod"},
        {"@timestamp": "2026-11-21T14:00:00Z", "Service Name": "checkout", "ID": "r9", "Commit": SHAS[2], "Status": "Done", "by": "eve",
         "change_cause": "hotfix", "tier": "prod"},
    ],
)  # fmt: skip
def test_jsonl_aliases(tmp_path: Path, row: dict) -> None:
    p = tmp_path / "d.log"
    p.write_text(json.dumps(row) + "\n")
    (d,) = dp.read_deploys(p)
    assert (d.started_at, d.service, d.id, d.sha, d.status, d.actor, d.description, d.environment) == (
        T0, "checkout", "r9", SHAS[2], "succeeded", "eve", "hotfix", "prod"
    )


def test_ref_that_is_a_branch_becomes_the_version_and_id_falls_back(tmp_path: Path) -> None:
    p = tmp_path / "d.jsonl"
    p.write_text(json.dumps({"time": z(T0), "ref": "refs/tags/v3.1.0"}) + "\n" + json.dumps({"time": z(T0), "sha": SHAS[4]}) + "\n")
    a, b = dp.read_deploys(p, service="checkout")
    assert a.sha is None and a.version == "refs/tags/v3.1.0" and a.id == "refs/tags/v3.1.0" and a.service == "checkout"
    assert b.id == SHAS[4][:12] and b.status == "unknown"


def test_csv_with_aliases_quotes_bom_and_semicolons(tmp_path: Path) -> None:
    p = tmp_path / "deploys.csv"
    p.write_text(
        "\ufefftimestamp,app,release,commit,result,user,message\n"
        f'{z(T0 - timedelta(hours=1))},checkout,r1,{SHAS[0]},success,alice,"first, with a comma"\n'
        f"{z(T0)},checkout,r2,{SHAS[1]},failure,bob,second\n",
        encoding="utf-8",
    )
    a, b = dp.read_deploys(p)
    assert a.description == "first, with a comma" and a.status == "succeeded" and a.source == "csv"
    assert b.status == "failed" and b.id == "r2"
    semi = tmp_path / "d.csv"
    semi.write_text(f"date;service;version;status\n{z(T0)};api;2.0;deployed\n")
    (d,) = dp.read_deploys(semi)
    assert (d.service, d.version, d.status, d.id) == ("api", "2.0", "succeeded", "2.0")


def test_garbage_rows_are_skipped_and_counted(tmp_path: Path) -> None:
    p = tmp_path / "d.jsonl"
    good = json.dumps({"at": z(T0), "id": "ok"})
    p.write_bytes(b"\n".join([good.encode(), b"{not json", b"[1,2]", b'{"at": "yesterday"}', b"\xff\xfe\x00garbage", good.replace("ok", "ok2").encode()]))
    report = dp.read_report(p)
    assert [d.id for d in report.deploys] == ["ok", "ok2"]
    assert report.skipped == 4 and report.rows == 6
    assert "line 2" in report.first_problem and "4 unreadable rows skipped" in report.summary()


def test_wholly_unreadable_files_are_usage_errors_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"nothing": 1}\n{"at": "never"}\n')
    with pytest.raises(UsageError, match="bad.jsonl: no deploy could be read"):
        dp.read_deploys(bad)
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(UsageError, match="blob.bin"):
        dp.read_deploys(binary)
    prose = tmp_path / "notes.txt"
    prose.write_text("we deployed on tuesday\nand it was fine\n")
    with pytest.raises(UsageError, match="notes.txt"):
        dp.detect_format(prose)
    with pytest.raises(UsageError, match="missing.json"):
        dp.read_deploys(tmp_path / "missing.json")
    with pytest.raises(UsageError, match="unknown deploy format"):
        dp.read_deploys(bad, "spinnaker")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert dp.read_deploys(empty) == []


def test_gzipped_deploy_log(tmp_path: Path) -> None:
    p = tmp_path / "deploys.jsonl.1.gz"
    p.write_bytes(gzip.compress((json.dumps({"at": z(T0), "service": "api", "id": "x"}) + "\n").encode()))
    assert dp.detect_format(p) == "jsonl"
    assert dp.read_deploys(p)[0].id == "x"


def test_started_and_finished_rows_of_one_deploy_merge(tmp_path: Path) -> None:
    p = tmp_path / "events.jsonl"
    rows = [
        {"at": z(T0), "service": "api", "id": "d7", "status": "started", "version": "7"},
        {"at": z(T0 + timedelta(minutes=1)), "service": "web", "id": "w1", "status": "succeeded"},
        {"at": z(T0 + timedelta(minutes=4)), "service": "api", "id": "d7", "status": "failed", "description": "health check"},
    ]
    p.write_text("\n".join(json.dumps(r) for r in rows))
    got = dp.read_deploys(p)
    assert [(d.id, d.status) for d in got] == [("d7", "failed"), ("w1", "succeeded")]
    assert got[0].finished_at == T0 + timedelta(minutes=4) and got[0].description == "health check" and got[0].version == "7"


# ---------------------------------------------------------------- helm, Argo CD, Heroku, GitHub


def test_helm_history_json_and_yaml(tmp_path: Path) -> None:
    p = write_json(tmp_path / "history.json", helm_history())
    assert dp.detect_format(p) == "helm"
    got = by_id(dp.read_deploys(p, service="checkout"))
    assert got["1"].started_at == T0 - timedelta(minutes=300, microseconds=-123456) and got["1"].service == "checkout" and got["1"].source == "helm"
    assert got["4"].status == "failed"
    assert got["6"].rollback_of == "3" and got["6"].status == "succeeded"
    assert got["5"].status == "rolled_back"  # undone by "Rollback to 3"
    assert got["7"].status == "succeeded" and got["7"].version == "1.4.0"
    assert got["8"].status == "in_progress"
    y = tmp_path / "history.yaml"
    y.write_text(yaml.safe_dump(helm_history()))
    assert dp.detect_format(y) == "helm"
    assert [d.id for d in dp.read_deploys(y)] == [str(i) for i in range(1, 9)]


def test_argocd_application_history_and_failed_operation(tmp_path: Path) -> None:
    for p in (write_json(tmp_path / "app.json", argocd_app()), tmp_path / "app.yaml"):
        if p.suffix == ".yaml":
            p.write_text(yaml.safe_dump(argocd_app()).replace("'", ""))  # unquoted timestamps load as datetimes
        assert dp.detect_format(p) == "argocd"
        got = dp.read_deploys(p, service="ignored")
        assert [d.id for d in got][:3] == ["10", "11", "12"]
        assert {d.service for d in got} == {"checkout"} and {d.environment for d in got} == {"shop-prod"}
        assert got[1].sha == SHAS[1] and got[1].actor == "alice" and got[1].started_at == T0 - timedelta(hours=1)
        assert got[1].finished_at == T0 - timedelta(minutes=59) and got[1].status == "succeeded"
        assert got[2].actor == "automated sync"
        assert got[3].status == "failed" and got[3].sha == SHAS[3] and got[3].actor == "bob" and "failed to apply" in (got[3].description or "")


def test_argocd_history_list_cli_output_and_kubectl_list(tmp_path: Path) -> None:
    history = argocd_app()["status"]["history"]
    p = write_json(tmp_path / "h.json", history)  # `argocd app history checkout -o json`
    assert dp.detect_format(p) == "argocd"
    got = dp.read_deploys(p, service="checkout")
    assert [d.id for d in got] == ["10", "11", "12"] and got[0].service == "checkout"
    k = write_json(tmp_path / "apps.json", {"apiVersion": "v1", "kind": "List", "items": [argocd_app()]})
    assert dp.detect_format(k) == "argocd" and len(dp.read_deploys(k)) == 4


def test_argocd_redeploy_of_an_old_revision_is_a_rollback(tmp_path: Path) -> None:
    history = argocd_app()["status"]["history"]
    history.append({"id": 13, "revision": SHAS[1], "deployedAt": z(T0), "source": history[0]["source"]})
    got = by_id(dp.read_deploys(write_json(tmp_path / "h.json", history), service="checkout"))
    assert got["13"].rollback_of == "11" and got["12"].status == "rolled_back" and got["11"].status == "succeeded"


def test_heroku_releases(tmp_path: Path) -> None:
    p = write_json(tmp_path / "releases.json", heroku_releases())
    assert dp.detect_format(p) == "heroku"
    got = by_id(dp.read_deploys(p))
    assert got["40"].version == "v40" and got["40"].sha == "1a2b3c4" and got["40"].service == "checkout-prod"
    assert got["40"].actor == "dana@example.com" and got["40"].finished_at == T0 - timedelta(minutes=240) + timedelta(seconds=30)
    assert got["44"].rollback_of == "41"
    assert got["42"].status == "rolled_back" and got["43"].status == "rolled_back" and got["41"].status == "succeeded"
    assert got["45"].status == "failed" and got["46"].status == "in_progress" and got["46"].finished_at is None


def test_github_deployments(tmp_path: Path) -> None:
    p = write_json(tmp_path / "deployments.json", github_deployments())
    assert dp.detect_format(p) == "github"
    got = by_id(dp.read_deploys(p))
    assert got["1"].status == "succeeded" and got["1"].finished_at == T0 - timedelta(minutes=180) + timedelta(seconds=60)
    assert got["1"].environment == "production" and got["1"].actor == "octocat" and got["1"].version == "v2.1.0"
    assert got["1"].service == "checkout" and got["1"].sha == SHAS[1]
    assert got["3"].status == "failed" and got["5"].status == "unknown" and got["2"].environment == "staging"
    assert dp.read_deploys(p, service="shop")[0].service == "shop"


def test_github_deployments_as_json_lines(tmp_path: Path) -> None:
    p = tmp_path / "deployments.jsonl"
    p.write_text("\n".join(json.dumps(d) for d in github_deployments()))
    assert dp.detect_format(p) == "github"
    assert len(dp.read_deploys(p)) == 5


def test_explicit_format_wins_over_detection(tmp_path: Path) -> None:
    p = write_json(tmp_path / "x.json", [{"at": z(T0), "id": "a"}])
    assert dp.detect_format(p) == "jsonl"
    assert dp.read_deploys(p, "jsonl")[0].id == "a"
    with pytest.raises(UsageError, match="no deploy could be read as helm"):
        dp.read_deploys(p, "helm")


def test_epoch_and_timezone_normalised_to_utc(tmp_path: Path) -> None:
    p = tmp_path / "d.jsonl"
    p.write_text(json.dumps({"ts": "2026-11-21T09:00:00-05:00", "id": "a"}) + "\n" + json.dumps({"ts": int(T0.timestamp() * 1000) + 1, "id": "b"}))
    a, b = dp.read_deploys(p)
    assert a.started_at == T0 and a.started_at.tzinfo == UTC
    assert b.started_at == T0 + timedelta(milliseconds=1)


def test_json_lines_detected_even_when_the_first_lines_are_broken(tmp_path: Path) -> None:
    p = tmp_path / "d.log"
    p.write_text("# deploy log\n{broken\n" + json.dumps({"at": z(T0), "id": "a"}) + "\n")
    assert dp.detect_format(p) == "jsonl"
    report = dp.read_report(p)
    assert [d.id for d in report.deploys] == ["a"] and report.skipped == 2


def test_nested_fields_of_the_wrong_type_are_read_around_not_crashed_on(tmp_path: Path) -> None:
    """Found by the 10x fuzz run: Heroku's `app` as a string (not {"name": ...}) raised AttributeError;
    Argo CD's nested status/spec/operation fields may be anything too."""
    heroku = tmp_path / "heroku.json"
    heroku.write_text(json.dumps([{"version": 42, "created_at": "2026-11-21T14:30:00Z", "app": "checkout", "status": "succeeded"},
                                  {"version": 43, "created_at": "2026-11-21T14:35:00Z", "app": ["x"], "user": {"email": 1}}]))
    got = dp.read_deploys(heroku, "heroku")
    assert [(d.id, d.service) for d in got] == [("42", "checkout"), ("43", None)]
    argo = tmp_path / "argo.json"
    argo.write_text(json.dumps({"metadata": "checkout", "spec": {"destination": "shop"}, "status": {
        "operationState": "Running", "history": [{"id": 7, "revision": "a" * 40, "deployedAt": "2026-11-21T14:30:00Z"}]}}))
    assert [d.id for d in dp.read_deploys(argo, "argocd")] == ["7"]
