"""Runbook verify checks through the verify phase: the triage's JSON, the journal, the terminal,
the postmortem, the Claude engine's merge, `runbook check` and `runbook dry-run`."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from tests.runbook_fixtures import write
from tests.verify_checks_fixtures import (
    RUNBOOK,
    at,
    build,
    rolled_back,
    triage_args,
)
from typer.testing import CliRunner

from incident.cli import app
from incident.engines.merge import merge
from incident.models import VerifyCheckResult, VerifyOutput

runner = CliRunner()


def _triage(tmp_path: Path, runbook: str = RUNBOOK, *extra: str, spec: object = None) -> tuple[int, str, Path]:
    p = build(tmp_path / "scn", spec or rolled_back())  # type: ignore[arg-type]
    write(tmp_path / "rb", "checkout.yaml", runbook)
    result = runner.invoke(app, triage_args(p, tmp_path / "rb", tmp_path / "inc", *extra))
    return result.exit_code, result.stdout, tmp_path / "inc"


def _verify(contract: dict[str, object]) -> dict[str, object]:
    return next(ph["output"] for ph in contract["phases"] if ph["phase"] == "verify")  # type: ignore[attr-defined,index]


def test_the_session_hands_the_runbooks_checks_to_the_verify_phase(tmp_path: Path) -> None:
    code, out, _ = _triage(tmp_path, RUNBOOK, "--json")
    assert code == 0
    assert [c["status"] for c in _verify(json.loads(out))["checks"]] == ["pass", "pass"]  # type: ignore[index]


def test_checks_in_the_json_contract_and_the_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, inc = _triage(tmp_path, RUNBOOK, "--json")
    assert code == 0, out
    verify = _verify(json.loads(out))
    checks = verify["checks"]
    assert [(c["description"], c["status"], c["deadline_reached"]) for c in checks] == [  # type: ignore[attr-defined]
        ("tracebacks stop", "pass", True), ("5xx back to baseline", "pass", True),
    ]
    tb = checks[0]  # type: ignore[index]
    assert tb["deadline"] == "2026-11-21T14:48:00Z" and tb["under_since"] == "2026-11-21T14:39:00Z"  # rollback at 14:38
    assert tb["last_minute_at"] == "2026-11-21T15:01:00Z" and tb["last_minute_count"] == 0
    assert verify["status"] == "working" and "runbook checks: 2 pass" in verify["summary"]  # type: ignore[operator]
    events = [json.loads(line) for line in next(inc.iterdir()).joinpath("events.jsonl").read_text().splitlines()]
    recorded = next(e for e in events if e["type"] == "phase.completed" and e["payload"]["phase"] == "verify")
    assert recorded["payload"]["output"]["checks"] == checks


SECOND = """  - description: 5xx back to baseline
    pattern: '" 5\\d\\d '
    max_per_minute: 2
"""
CART_RUNBOOK = RUNBOOK.replace(SECOND, """  - description: cart traffic under 1/min
    pattern: '"GET /api/cart '
    max_per_minute: 1
""")


def test_a_failing_check_overrides_the_error_rates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rates say the rollback worked; the runbook's own bar (here: any cart request) says not."""
    assert "GET /api/cart" in CART_RUNBOOK
    code, out, _ = _triage(tmp_path, CART_RUNBOOK, "--json")
    assert code == 0, out
    verify = _verify(json.loads(out))
    assert [c["status"] for c in verify["checks"]] == ["pass", "fail"]  # type: ignore[attr-defined]
    assert verify["status"] == "not working"
    assert any(r.startswith("runbook check cart traffic under 1/min: fail") for r in verify["residual_issues"])  # type: ignore[attr-defined]
    assert verify["next_step"].startswith("a runbook verify check failed")  # type: ignore[attr-defined]


def test_the_terminal_and_the_postmortem_show_the_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, inc = _triage(tmp_path, CART_RUNBOOK)
    assert code == 0, out
    assert "check PASS" in out and "tracebacks stop" in out and "check FAIL" in out and "cart traffic under 1/min" in out
    assert "under since 14:39Z" in out
    pm = runner.invoke(app, ["postmortem", "last", "--incidents-dir", str(inc), "--json", "--now", "2026-11-21T15:05:00Z"])
    assert pm.exit_code == 0, pm.output
    mit = json.loads(pm.stdout)["postmortem"]["mitigation"]
    assert [c["status"] for c in mit["verify_checks"]] == ["pass", "fail"]
    assert "1 of 2 passed; failed: cart traffic under 1/min." in mit["effectiveness"]
    assert not any(r.startswith("runbook check") for r in mit["residual_issues"])  # the table says it
    md = next(inc.iterdir()).joinpath("postmortem.md").read_text()
    row = next(line for line in md.splitlines() if line.strip().startswith("| tracebacks stop"))
    assert "| 1/min within 10 min | pass |" in row and "| 2026-11-21 14:39:00Z |" in row
    assert "runbook checks: 1 pass, 1 fail" in md  # the timeline's verification row


def test_the_models_checks_never_survive_the_merge() -> None:
    facts = VerifyOutput(
        status="not working",
        checks=[VerifyCheckResult(pattern="x", max_per_minute=1, within_minutes=10, status="fail", last_minute_count=7)],
        residual_issues=["runbook check x: fail", "other"],
    )
    model = VerifyOutput(
        status="working", residual_issues=["the model's view"],
        checks=[VerifyCheckResult(pattern="x", max_per_minute=1, within_minutes=10, status="pass")],
    )
    merged = merge(model, facts, [])
    assert isinstance(merged, VerifyOutput)
    assert merged.status == "not working" and merged.checks == facts.checks
    assert merged.residual_issues == ["the model's view", "runbook check x: fail"]


# ---------------------------------------------------------------- runbook check


def _check(tmp_path: Path, text: str, *extra: str) -> dict[str, object]:
    write(tmp_path / "rb", "c.yaml", text)
    result = runner.invoke(app, ["runbook", "check", str(tmp_path / "rb"), "--format", "json", "--no-prompts",
                                 "--now", "2026-11-21T00:00:00Z", *extra])
    data = json.loads(result.stdout)
    data["exit_code"] = result.exit_code
    return data


def test_runbook_check_refuses_a_pattern_that_matches_everything(tmp_path: Path) -> None:
    data = _check(tmp_path, RUNBOOK.replace("'\" 5\\d\\d '", "'(5xx)?'"))
    assert data["exit_code"] == 1
    (p,) = data["problems"]  # type: ignore[misc]
    assert (p["code"], p["severity"], p["line"], p["column"]) == ("verify-pattern", "error", 18, 14)
    assert "verify[1] (5xx back to baseline)" in p["message"] and "empty string" in p["message"]


def test_runbook_check_accepts_what_python_can_run_when_ripgrep_cannot(tmp_path: Path) -> None:
    data = _check(tmp_path, RUNBOOK.replace("'\" 5\\d\\d '", "'(?<=status=)5\\d\\d'"))
    assert data["exit_code"] == 0 and data["problems"] == []


def test_runbook_check_warns_when_no_log_source_feeds_the_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, ".incident.yaml", "services:\n  - name: checkout\n    repo: .\n  - name: search\n    logs: [/var/log/search.log]\n")
    monkeypatch.chdir(tmp_path)
    data = _check(tmp_path, RUNBOOK)
    assert data["exit_code"] == 0
    (p,) = data["problems"]  # type: ignore[misc]
    assert (p["code"], p["severity"], p["line"]) == ("verify-no-logs", "warning", 13)
    assert "no log source" in p["message"] and "names no logs for checkout" in p["message"]
    # A log source in the runbook (or the config) is enough.
    with_source = RUNBOOK.replace("mitigations:", "sources:\n  logs: [logs/*.log]\nmitigations:")
    assert _check(tmp_path, with_source)["problems"] == []


# ---------------------------------------------------------------- dry-run


EXPECT = """\
runbook: checkout-rollback
verify_status: working
verify_checks:
  tracebacks stop: pass
  '" 5\\d\\d ': pass
"""


def _scenario(tmp_path: Path, expect: str = EXPECT, mitigated: str = "mitigated_at: 2026-11-21T14:39:00Z\n") -> Path:
    """The rolled-back incident without the rollback in the deploy history: the mitigation time
    is the operator's, from scenario.yaml."""
    root = tmp_path / "scenario"
    spec = rolled_back(rollback_minutes=7)
    build(root, replace(spec, deploys=spec.deploys[:2]))
    write(root, "expect.yaml", expect)
    write(root, "scenario.yaml", f"service: checkout\nsymptom: checkout returns 500s\nnow: 2026-11-21T15:02:00Z\n{mitigated}")
    return root


def test_dry_run_asserts_the_checks_outcomes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "rb", "checkout.yaml", RUNBOOK)
    result = runner.invoke(app, ["runbook", "dry-run", str(tmp_path / "rb"), "--scenario", str(_scenario(tmp_path)), "--json"])
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert [(e["name"], e["actual"], e["passed"]) for e in report["expectations"]][1:] == [
        ("verify status", "working", True),
        ("verify check", "tracebacks stop: pass", True),
        ("verify check", '" 5\\d\\d : pass', True),
    ]
    assert [c["status"] for c in report["verify_checks"]] == ["pass", "pass"]
    assert report["verify_checks"][0]["deadline"] == "2026-11-21T14:49:00Z"  # 14:39 + 10 min


def test_dry_run_fails_a_wrong_check_expectation_and_shows_every_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "rb", "checkout.yaml", RUNBOOK)
    expect = "verify_checks:\n  tracebacks stop: fail\n  no such check: pass\n"
    result = runner.invoke(app, ["runbook", "dry-run", str(tmp_path / "rb"), "--scenario", str(_scenario(tmp_path, expect))],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 1
    out = result.stdout
    assert "FAIL verify check    expected tracebacks stop: fail, got tracebacks stop: pass" in out
    assert "FAIL verify check    expected no such check: pass, got not measured" in out
    assert "the verify phase measured: tracebacks stop | 5xx back to baseline" in out
    assert "check pass     tracebacks stop  last minute 0/min, limit 1/min" in out
    assert "0/2 expectations met — failed" in out


def test_dry_run_without_a_mitigation_time_reports_the_checks_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "rb", "checkout.yaml", RUNBOOK)
    scenario = _scenario(tmp_path, "verify_checks:\n  tracebacks stop: unknown\n", mitigated="")
    result = runner.invoke(app, ["runbook", "dry-run", str(tmp_path / "rb"), "--scenario", str(scenario), "--json"])
    assert result.exit_code == 0, result.stdout
    exp = json.loads(result.stdout)["expectations"][0]
    assert exp["passed"] and "no mitigation time is known" in exp["note"]


def test_mitigated_at_is_the_operators_time_as_incident_mark_records_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "rb", "checkout.yaml", RUNBOOK)
    result = runner.invoke(app, ["runbook", "dry-run", str(tmp_path / "rb"), "--scenario", str(_scenario(tmp_path)), "--json"])
    triage = json.loads(result.stdout)["triage"]
    assert _verify(triage)["mitigation_at"] == at(7).isoformat().replace("+00:00", "Z")
    assert "mitigation recorded by the operator" in _verify(triage)["summary"]  # type: ignore[operator]
