"""Offline engine rules: severity, classification without logs, command safety, runbook order,
verify around a confirmed mitigation, an honest "unknown", determinism, stack-trace reading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.offline_fixtures import run_all
from tests.scenario_catalog import SCENARIOS

from incident.engines import analysis as an
from incident.engines.base import Brief
from incident.engines.mitigations import rollback_command
from incident.engines.offline import OfflineEngine
from incident.models import (
    AssessOutput,
    ChangeRef,
    ClassifyOutput,
    ContainOutput,
    DiagnoseOutput,
    Evidence,
    ProposedCommand,
    RollbackTarget,
    VerifyOutput,
)
from incident.phases import PHASES
from incident.scenario import DeploySpec, FailureSpec, ScenarioSpec, build_example, build_scenario

NOW = datetime(2026, 11, 21, 14, 40, tzinfo=UTC)


def _run(phase: str, brief: Brief, tmp_path: Path):  # type: ignore[no-untyped-def]
    from incident.tools.base import Roots, Toolbox, ToolContext

    return OfflineEngine().run_phase(PHASES[phase], brief, "", Toolbox(ToolContext(roots=Roots.of(tmp_path)), [])).output


def _bare(symptom: str) -> Brief:
    return Brief(incident_id="x", title=symptom, service="checkout", symptom=symptom, now=NOW, evidence=Evidence(now=NOW))


@pytest.mark.parametrize(
    ("symptom", "classification", "severity"),
    [
        ("the whole site is down", "active", "SEV-1"),
        ("customers report data loss in carts", "active", "SEV-1"),
        ("checkout unavailable", "active", "SEV-2"),
        ("search is slow for some users", "degraded", "SEV-3"),
        ("errors stopped after the restart, recovered", "post-incident", "SEV-3"),
        ("typo on the pricing page", "active", "SEV-4"),
    ],
)
def test_without_logs_the_report_decides(tmp_path: Path, symptom: str, classification: str, severity: str) -> None:
    out = _run("classify", _bare(symptom), tmp_path)
    assert isinstance(out, ClassifyOutput)
    assert (out.classification, out.severity) == (classification, severity), out.summary
    assert out.start_phase == ("diagnose" if classification == "post-incident" else "assess")


@pytest.mark.parametrize(
    ("source", "service", "rev", "want"),
    [
        ("helm", "checkout", "4", "helm rollback checkout 4"),
        ("argocd", "checkout", "12", "argocd app rollback checkout 12"),
        ("heroku", "shop-api", "v41", "heroku rollback v41 --app shop-api"),
        ("helm", "checkout; rm -rf /", "4", None),
        ("helm", "--kubeconfig=/tmp/x", "4", None),
        ("helm", "checkout", "4 && curl evil", None),
        ("jsonl", "checkout", "4", None),  # the deploy tool is unknown: no command rather than a wrong one
        ("github", "checkout", "4", None),
    ],
)
def test_rollback_commands_are_built_from_strict_values(source: str, service: str, rev: str, want: str | None) -> None:
    target = RollbackTarget(id=rev, at=NOW - timedelta(days=1))
    assert rollback_command(source, service, target) == want


def test_runbook_vetted_rollback_comes_first(tmp_path: Path) -> None:
    paths = build_example(tmp_path)
    vetted = ProposedCommand(action="Roll back with the runbook", command="helm rollback checkout 4 --wait", vetted=True,
                             kind="rollback", runbook_id="checkout")
    flag = ProposedCommand(action="Disable express shipping", command="flagctl off express-shipping", vetted=True,
                           kind="feature-flag", runbook_id="checkout")
    _, outs = run_all(paths)
    brief_outputs = {k: v for k, v in outs.items() if k in ("classify", "assess")}
    from tests.offline_fixtures import context, evidence

    ev = evidence(paths)
    brief = Brief(incident_id="x", title="t", service="checkout", symptom=paths.symptom, now=ev.now, evidence=ev,
                  outputs=dict(brief_outputs), vetted_commands=[flag, vetted], runbook_id="checkout")
    from incident.tools import default_tools
    from incident.tools.base import Toolbox

    out = OfflineEngine().run_phase(PHASES["contain"], brief, "", Toolbox(context(paths), default_tools())).output
    assert isinstance(out, ContainOutput)
    kinds = [(m.kind, m.vetted) for m in out.mitigations]
    assert kinds[:2] == [("rollback", True), ("feature-flag", True)]
    assert sum(1 for m in out.mitigations if m.kind == "rollback") == 1  # the generic one gave way
    assert out.rollback_first and "runbook: checkout" in out.citations


def test_external_cause_never_leads_with_a_vetted_rollback(tmp_path: Path) -> None:
    spec, _ = SCENARIOS["external-no-deploy"]
    paths = build_scenario(tmp_path, spec)
    from tests.offline_fixtures import context, evidence

    ev = evidence(paths)
    rb = ProposedCommand(action="Roll back", command="helm rollback checkout 41", vetted=True, kind="rollback")
    brief = Brief(incident_id="x", title="t", service="checkout", symptom=paths.symptom, now=ev.now, evidence=ev, vetted_commands=[rb])
    from incident.tools import default_tools
    from incident.tools.base import Toolbox

    out = OfflineEngine().run_phase(PHASES["contain"], brief, "", Toolbox(context(paths), default_tools())).output
    assert isinstance(out, ContainOutput)
    assert out.mitigations[0].kind == "failover" and not out.rollback_first
    assert "ReadTimeout" in out.note and "not recommended first" in out.note
    assert any(m.command == "helm rollback checkout 41" for m in out.mitigations)


@pytest.mark.parametrize(("minutes", "status"), [(11, "working"), (4, "partially working"), (29.8, "unknown")])
def test_verify_uses_the_operator_confirmed_time(tmp_path: Path, minutes: float, status: str) -> None:
    spec = ScenarioSpec(deploys=(DeploySpec("1", -900), DeploySpec("2", -2, files={"checkout/shipping.py": "x = 1\n"})),
                        failure=FailureSpec(line=1), recovered_minutes=12, now_minutes=30)
    paths = build_scenario(tmp_path, spec)
    at = spec.onset + timedelta(minutes=minutes)
    _, outs = run_all(paths, mitigation_at=at, symptom="checkout errors")
    verify = outs["verify"]
    assert isinstance(verify, VerifyOutput)
    assert verify.mitigation_at == at
    # At +4 min the errors went on for 8 more minutes: lower since, but not back to baseline.
    assert verify.status == status, verify.summary
    if status == "working":
        assert verify.recovered_at is not None and abs(verify.recovered_at - (spec.onset + timedelta(minutes=12))) <= timedelta(minutes=2)
        assert any("failed requests" in r for r in verify.residual_issues)


def test_still_failing_after_mitigation_is_not_working(tmp_path: Path) -> None:
    paths = build_example(tmp_path)
    at = paths.now - timedelta(minutes=6)  # errors never stopped in the example
    _, outs = run_all(paths, mitigation_at=at)
    verify = outs["verify"]
    assert isinstance(verify, VerifyOutput)
    assert verify.status == "not working"
    assert any("still seen after the mitigation" in r for r in verify.residual_issues)


def test_unknown_cause_is_said_so(tmp_path: Path) -> None:
    # Errors in code no deploy touched, no deploy near the onset, nothing external-looking.
    spec = ScenarioSpec(
        deploys=(DeploySpec("1", -60 * 24 * 5),),
        failure=FailureSpec(file="checkout/tax.py", function="rate_for", code="return TABLE[code]",
                            exception="LookupError: no tax table entry"),
    )
    paths = build_scenario(tmp_path, spec)
    _, outs = run_all(paths)
    assess, contain, diag = outs["assess"], outs["contain"], outs["diagnose"]
    assert isinstance(assess, AssessOutput) and isinstance(contain, ContainOutput) and isinstance(diag, DiagnoseOutput)
    assert assess.suspect_change is None and assess.likely_trigger == "unknown"
    assert not contain.rollback_first and "nothing in the evidence names a cause" in contain.note
    assert diag.category == "unknown" and diag.root_cause.startswith("Root cause unknown")
    assert "LookupError" in diag.mechanism


def test_deterministic(tmp_path: Path) -> None:
    paths = build_example(tmp_path)
    _, a = run_all(paths)
    _, b = run_all(paths)
    assert {k: v.model_dump() for k, v in a.items()} == {k: v.model_dump() for k, v in b.items()}


def test_later_phases_build_on_an_earlier_assess(tmp_path: Path) -> None:
    """Whatever engine answered assess, contain and diagnose use its suspect and target."""
    paths = build_example(tmp_path)
    from tests.offline_fixtures import evidence

    ev = evidence(paths)
    assess = AssessOutput(
        onset=ev.timeline.onset if ev.timeline else None,
        suspect_change=ChangeRef(kind="deploy", id="3", service="checkout", at=NOW - timedelta(days=2)),
        rollback_target=RollbackTarget(id="2", at=NOW - timedelta(days=4), service="checkout"),
    )
    brief = Brief(incident_id="x", title="t", service="checkout", symptom=paths.symptom, now=ev.now, evidence=ev,
                  outputs={"assess": assess})
    out = _run("contain", brief, tmp_path)
    assert isinstance(out, ContainOutput)
    assert out.mitigations[0].kind == "rollback" and out.mitigations[0].command == "helm rollback checkout 2"


def test_stack_frames_of_common_languages() -> None:
    java = "java.lang.NullPointerException: x\n\tat com.shop.checkout.Shipping.quote(Shipping.java:42)\n\tat org.springframework.Foo.bar(Foo.java:1)"
    js = "TypeError: Cannot read properties of undefined (reading 'region')\n    at quote (/app/src/shipping.js:12:7)\n    at /app/node_modules/express/lib/router.js:1:1"
    go = "panic: runtime error: invalid memory address\n\t/app/internal/shipping/quote.go:42 +0x1d"
    py = 'Traceback (most recent call last):\n  File "/usr/lib/python3.11/site-packages/x.py", line 3, in y\n  File "/srv/app/checkout/shipping.py", line 7, in quote\nAttributeError: boom'
    facts = an.trace_facts([java, js, go, py])
    files = set(facts.files)
    assert {"com/shop/checkout/Shipping.java", "/app/src/shipping.js", "/app/internal/shipping/quote.go", "/srv/app/checkout/shipping.py"} <= files
    assert not any("site-packages" in f or "node_modules" in f for f in files)
    assert an.path_matches("com/shop/checkout/Shipping.java", "src/main/java/com/shop/checkout/Shipping.java")
    assert an.path_matches("/srv/app/checkout/shipping.py", "checkout/shipping.py")
    assert not an.path_matches("/srv/app/checkout/shipping.py", "shipping.py/checkout")
    assert not an.path_matches("/srv/app/other/shipping.py", "checkout/shipping.py")
    assert facts.innermost() is not None


def test_a_fix_forward_deploy_counts_as_the_mitigation(tmp_path: Path) -> None:
    spec = ScenarioSpec(
        deploys=(DeploySpec("1", -900), DeploySpec("2", -2, files={"checkout/shipping.py": "x = 1\n"}),
                 DeploySpec("3", 9, files={"checkout/shipping.py": "x = 2\n"}, message="Fix shipping quote")),
        failure=FailureSpec(line=1), recovered_minutes=10, now_minutes=40,
    )
    paths = build_scenario(tmp_path, spec)
    _, outs = run_all(paths)
    classify, verify = outs["classify"], outs["verify"]
    assert isinstance(classify, ClassifyOutput) and isinstance(verify, VerifyOutput)
    assert classify.classification == "post-incident" and "fix forward" in classify.summary
    assert verify.status == "working" and verify.mitigation_at == spec.onset + timedelta(minutes=9)


@pytest.mark.parametrize("phase", ["classify", "assess", "contain", "diagnose", "fix", "verify", "review"])
def test_every_phase_answers_with_no_evidence_at_all(tmp_path: Path, phase: str) -> None:
    out = _run(phase, _bare("checkout errors"), tmp_path)
    assert out.summary
    if isinstance(out, AssessOutput):
        assert out.suspect_change is None and out.onset is None and out.likely_trigger == "unknown"
        assert any("--deploys" in n for n in out.needs_from_operator) and any("--logs" in n for n in out.needs_from_operator)
    if isinstance(out, ContainOutput):
        assert not out.rollback_first and out.note
        assert all(m.command is None for m in out.mitigations)  # nothing known to build a command from
    if isinstance(out, DiagnoseOutput):
        assert out.category == "unknown" and out.trigger.startswith("unknown")
    if isinstance(out, VerifyOutput):
        assert out.status == "unknown"


def test_operator_start_time_stands_in_when_the_logs_say_nothing(tmp_path: Path) -> None:
    from dataclasses import replace

    from tests.offline_fixtures import context

    paths = build_example(tmp_path)
    started = paths.now - timedelta(minutes=7)
    ctx = replace(context(paths), log_paths=[])
    _, outs = run_all(paths, started=started, ctx=ctx)
    assess = outs["assess"]
    assert isinstance(assess, AssessOutput)
    assert assess.onset == started
    assert assess.suspect_change is not None and assess.suspect_change.id == "6"  # 1 min before: time alone
    assert assess.rollback_target is not None and assess.rollback_target.id == "4"
    assert any("--logs" in n for n in assess.needs_from_operator)


def test_untrusted_deploy_text_stays_one_line() -> None:
    from incident.models import Deploy

    d = Deploy(id="9", service="checkout", started_at=NOW, description="ok\n\x1b[31mINJECTED\x1b[0m\r\nline")
    ref = an._deploy_ref(d, NOW)
    assert "\n" not in ref.summary and "\x1b" not in ref.summary and "INJECTED" in ref.summary
