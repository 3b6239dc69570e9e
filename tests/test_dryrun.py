"""`incident runbook dry-run`: the whole triage against generated scenario folders (real git repos)."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from tests.runbook_fixtures import write
from typer.testing import CliRunner

from incident.cli import app
from incident.config import Settings
from incident.dryrun import dry_run
from incident.errors import UsageError
from incident.resources import data_dir
from incident.scenario import DeploySpec, FailureSpec, ScenarioSpec, build_example, build_scenario

runner = CliRunner()
RUNBOOKS = data_dir("runbooks")

EXPECT_OK = """\
onset: 2026-11-21T14:32:00Z
suspect_change: "6"
rollback_target: "4"
classification: active
runbook: checkout-deploy
vetted_commands:
  - helm rollback checkout 4 -n shop --wait --timeout 5m
  - kubectl rollout restart deployment/checkout -n shop
"""


def _example(root: Path, expect: str = EXPECT_OK, scenario: str | None = None) -> Path:
    paths = build_example(root)
    write(root, "expect.yaml", expect)
    write(
        root, "scenario.yaml",
        scenario or "service: checkout\nsymptom: checkout is returning 500 errors\nnow: 2026-11-21T14:40:00Z\ndeploys_format: helm\n",
    )
    assert paths.repo == root / "repo"
    return root


def test_the_example_scenario_passes_every_expectation(tmp_path: Path) -> None:
    scenario = _example(tmp_path / "scn")
    report = dry_run(RUNBOOKS, scenario, settings=Settings())
    assert report.passed, [e.model_dump() for e in report.expectations]
    assert [(e.name, e.passed) for e in report.expectations] == [
        ("onset", True), ("suspect change", True), ("rollback target", True), ("classification", True),
        ("runbook", True), ("vetted command", True), ("vetted command", True),
    ]
    assert report.expectations[4].note == "service checkout; keyword '500'; keyword 'error'"
    assert report.triage is not None and report.triage["runbook"]["id"] == "checkout-deploy"


def test_wrong_expectations_fail_each_with_what_was_found(tmp_path: Path) -> None:
    expect = (
        "onset: 2026-11-21T14:20:00Z\n"  # 12 minutes early: outside ±2
        "suspect_change: '5'\n"
        "rollback_target: '3'\n"
        "classification: post-incident\n"
        "runbook: deploy-rollback-kubectl\n"
        "vetted_commands: [helm rollback checkout 3 -n shop --wait --timeout 5m]\n"
    )
    report = dry_run(RUNBOOKS, _example(tmp_path / "scn", expect), settings=Settings())
    assert not report.passed
    got = {e.name: (e.passed, e.actual) for e in report.expectations}
    assert got["onset"] == (False, "2026-11-21T14:32:00Z")
    assert got["suspect change"][0] is False and got["suspect change"][1].startswith("6 (")
    assert got["rollback target"][0] is False and got["rollback target"][1].startswith("4 (")
    assert got["classification"] == (False, "active")
    assert got["runbook"] == (False, "checkout-deploy")
    assert got["vetted command"] == (False, "not proposed")


def test_onset_tolerance_is_configurable(tmp_path: Path) -> None:
    scenario = _example(tmp_path / "scn", "onset: 2026-11-21T14:35:00Z\n")
    assert not dry_run(RUNBOOKS, scenario, settings=Settings()).passed  # 3 min off, default ±2
    assert dry_run(RUNBOOKS, scenario, settings=Settings(), tolerance_minutes=5).passed
    write(scenario, "expect.yaml", "onset: 2026-11-21T14:35:00Z\nonset_tolerance_minutes: 4\n")
    assert dry_run(RUNBOOKS, scenario, settings=Settings()).passed


def test_a_sha_prefix_identifies_the_suspect_change(tmp_path: Path) -> None:
    paths = build_example(tmp_path / "scn")
    sha6 = paths.expected["shas"]["6"]  # type: ignore[index]
    _example(tmp_path / "scn", f"suspect_change: {str(sha6)[:10]}\n")
    assert dry_run(RUNBOOKS, tmp_path / "scn", settings=Settings()).passed


def test_a_runbook_that_does_not_match_fails_the_runbook_and_command_expectations(tmp_path: Path) -> None:
    scenario = _example(tmp_path / "scn")
    report = dry_run(RUNBOOKS / "config-change.yaml", scenario, settings=Settings())
    got = {e.name: e for e in report.expectations}
    assert (got["runbook"].passed, got["runbook"].actual) == (False, None)
    commands = [e for e in report.expectations if e.name == "vetted command"]
    assert all(not e.passed for e in commands)
    assert got["suspect change"].passed  # the evidence is found either way


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize("form", ["bundle", "fast-import"])
def test_a_recorded_history_instead_of_a_repo_dir(tmp_path: Path, form: str) -> None:
    scenario = _example(tmp_path / "scn")
    repo = scenario / "repo"
    if form == "bundle":
        _git("bundle", "create", str(scenario / "repo.bundle"), "--all", cwd=repo)
    else:
        with (scenario / "repo.fi").open("wb") as f:
            subprocess.run(["git", "fast-export", "--all"], cwd=repo, check=True, stdout=f)
    shutil.rmtree(repo)
    report = dry_run(RUNBOOKS, scenario, settings=Settings())
    assert report.passed, [e.model_dump() for e in report.expectations]
    assert not any("not read" in n for n in report.notices), report.notices
    assert report.triage is not None and report.triage["suspect_change"]["sha"]  # read from the unpacked history


def test_now_defaults_to_the_last_log_line(tmp_path: Path) -> None:
    scenario = _example(tmp_path / "scn", scenario="service: checkout\nsymptom: checkout is returning 500 errors\n")
    assert dry_run(RUNBOOKS, scenario, settings=Settings()).passed


def _external(root: Path, symptom: str, expect: str) -> Path:
    spec = ScenarioSpec(
        service="catalog", symptom=symptom,
        deploys=(DeploySpec("10", -60 * 24, service="catalog", version="2.0.0"),),
        failure=FailureSpec(kind="external"),
    )
    paths = build_scenario(root, spec)
    write(paths.root, "scenario.yaml", f"service: catalog\nsymptom: {symptom}\nnow: {paths.now.isoformat()}\n")
    write(paths.root, "expect.yaml", expect)
    return paths.root


def test_an_external_failure_matches_the_dependency_runbook_and_blames_no_deploy(tmp_path: Path) -> None:
    expect = (
        "onset: 2026-11-21T14:32:00Z\nsuspect_change: null\nrunbook: dependency-outage\n"
        "vetted_commands: [kubectl set env deployment/catalog PAYMENT_PROVIDER=provider-b -n shop]\n"
    )
    report = dry_run(RUNBOOKS, _external(tmp_path / "ext", "upstream timeouts on catalog pages", expect), settings=Settings())
    got = {e.name: (e.passed, e.actual) for e in report.expectations}
    assert got == {
        "onset": (True, "2026-11-21T14:32:00Z"),
        "suspect change": (True, None),
        "runbook": (True, "dependency-outage"),
        "vetted command": (True, "proposed, vetted"),
    }, report.triage and report.triage["suspect_change"]


def test_no_runbook_expected_and_none_matching_passes(tmp_path: Path) -> None:
    report = dry_run(RUNBOOKS, _external(tmp_path / "ext", "catalog pages fail", "runbook: null\n"), settings=Settings())
    assert [(e.name, e.passed, e.actual) for e in report.expectations] == [("runbook", True, None)]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "expect.yaml: not found"),
        ({"expect.yaml": "onset_tolerance_minutes: 3\n"}, "names no expectation"),
        ({"expect.yaml": "onset: 2026-11-21T14:32:00Z\nsuspect: '6'\n"}, "expect.yaml:2:1: suspect: unknown key"),
        ({"expect.yaml": "runbook: x\n", "scenario.yaml": "service: [a\n"}, "scenario.yaml:2:1: not valid YAML"),
    ],
)
def test_bad_scenario_folders_are_usage_errors(tmp_path: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        write(tmp_path, name, text)
    with pytest.raises(UsageError) as e:
        dry_run(RUNBOOKS, tmp_path, settings=Settings())
    assert message in e.value.message


def test_a_live_engine_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="offline or scripted"):
        dry_run(RUNBOOKS, _example(tmp_path / "scn"), engine="claude", settings=Settings())


# ---------------------------------------------------------------- the CLI


def test_cli_dry_run_pass_text_json_junit(tmp_path: Path) -> None:
    scenario = _example(tmp_path / "scn")
    result = runner.invoke(app, ["runbook", "dry-run", str(RUNBOOKS), "--scenario", str(scenario)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].startswith("PASS onset")
    assert lines[-1] == "7/7 expectations met — passed (nothing was executed)"
    junit = tmp_path / "dry.xml"
    result = runner.invoke(app, ["runbook", "dry-run", str(RUNBOOKS), "--scenario", str(scenario), "--json", "--junit", str(junit)])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["passed"] is True and data["schema_version"] == 1 and len(data["expectations"]) == 7
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("7", "0")


def test_cli_dry_run_fail_exits_1_and_junit_names_the_failure(tmp_path: Path) -> None:
    scenario = _example(tmp_path / "scn", "suspect_change: '5'\nrunbook: checkout-deploy\n")
    junit = tmp_path / "dry.xml"
    result = runner.invoke(app, ["runbook", "dry-run", str(RUNBOOKS), "--scenario", str(scenario), "--junit", str(junit)])
    assert result.exit_code == 1
    assert "FAIL suspect change  expected 5, got 6 (" in result.stdout
    assert "1/2 expectations met — failed" in result.stdout
    failures = ET.parse(junit).getroot().findall(".//failure")
    assert len(failures) == 1 and failures[0].get("message", "").startswith("expected 5, got 6")


def test_cli_dry_run_usage_error_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["runbook", "dry-run", str(RUNBOOKS), "--scenario", str(tmp_path), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "usage"


def test_scripted_answers_are_replayed_and_labelled_by_the_runbook_not_the_model(tmp_path: Path) -> None:
    scenario = _example(
        tmp_path / "scn",
        "runbook: checkout-deploy\nvetted_commands: [helm rollback checkout 4 -n shop --wait --timeout 5m]\n",
    )
    contain = {
        "summary": "roll back",
        "rollback_first": True,
        "mitigations": [
            # the model claims nothing about vetting; the exact runbook command is vetted anyway
            {"action": "roll back", "command": "helm rollback checkout 4 -n shop --wait --timeout 5m", "kind": "rollback"},
            # the model claims vetted and harmless; neither survives
            {"action": "clean up", "command": "kubectl delete deployment checkout -n shop", "vetted": True, "destructive": False},
        ],
    }
    write(scenario / "scripted", "contain.json", json.dumps(contain))
    report = dry_run(RUNBOOKS, scenario, engine="scripted", settings=Settings())
    assert report.passed, [e.model_dump() for e in report.expectations]
    assert report.triage is not None
    mitigations = {m["command"]: (m["vetted"], m["destructive"]) for m in report.triage["mitigations"]}
    assert mitigations == {
        "helm rollback checkout 4 -n shop --wait --timeout 5m": (True, False),
        "kubectl delete deployment checkout -n shop": (False, True),
        # the runbook's other vetted command, which the model left out, is still offered
        "kubectl rollout restart deployment/checkout -n shop": (True, False),
    }
    engines = {p["phase"]: p["engine"] for p in report.triage["phases"]}
    assert engines["contain"] == "scripted" and engines["assess"] == "offline"  # no recording: offline answered
    assert any("scripted engine unavailable for assess" in n for n in report.notices)


def test_cli_scripted_without_recordings_is_a_usage_error(tmp_path: Path) -> None:
    scenario = _example(tmp_path / "scn")
    result = runner.invoke(app, ["runbook", "dry-run", str(RUNBOOKS), "--scenario", str(scenario), "--engine", "scripted"])
    assert result.exit_code == 2
    assert "no recorded answers" in result.stderr


def test_the_recorded_example_scenario_in_the_readme_passes(monkeypatch) -> None:
    """`incident runbook dry-run runbooks/checkout-deploy.yaml --scenario examples/scenarios/bad-deploy`,
    as the README shows it: a committed recording (fast-export history, helm history, gzipped log)."""
    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)
    result = runner.invoke(app, ["runbook", "dry-run", "runbooks/checkout-deploy.yaml", "--scenario",
                                 "examples/scenarios/bad-deploy", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["passed"] is True and len(report["expectations"]) == 8
    # The rollback was recorded at 14:36 and the recording ends at 14:40 with errors still flowing.
    assert sorted(e["actual"] for e in report["expectations"] if e["name"] == "verify check") == [
        "checkout 5xx back to baseline: pending", "unhandled exceptions stop after the rollback: pending"]


def test_deploy_files_in_different_formats_one_format_each(tmp_path: Path) -> None:
    scenario = _example(tmp_path / "scn", scenario=(
        "service: checkout\nsymptom: checkout is returning 500 errors\nnow: 2026-11-21T14:40:00Z\n"
        "deploys: [deploys/checkout.helm-history.json, deploys/search.csv]\ndeploys_format: [helm, csv]\n"))
    write(scenario, "deploys/search.csv", "time,service,id,version,status\n2026-11-21T14:20:00Z,search,s-9,2.4.0,succeeded\n")
    report = dry_run(RUNBOOKS, scenario, settings=Settings())
    assert report.passed, [e.model_dump() for e in report.expectations]
    assert report.triage is not None
    assert "s-9" in json.dumps(report.triage)  # the csv file was read, as csv
    bad = _example(tmp_path / "bad", scenario=(
        "service: checkout\nnow: 2026-11-21T14:40:00Z\ndeploys: [deploys/checkout.helm-history.json]\ndeploys_format: [helm, csv]\n"))
    with pytest.raises(UsageError):
        dry_run(RUNBOOKS, bad, settings=Settings())
