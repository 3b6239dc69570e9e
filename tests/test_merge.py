"""The analysers' facts are written over a model's answer; the model's judgement is kept only
where it names something the evidence holds."""

from datetime import UTC, datetime, timedelta

from incident.engines.merge import merge
from incident.models import (
    AssessOutput,
    BlastRadius,
    ChangeRef,
    ContainOutput,
    Deploy,
    ProposedCommand,
    RollbackTarget,
    VerifyOutput,
)

T = datetime(2026, 11, 21, 14, 32, tzinfo=UTC)


def deploy(i: str, minutes: int, status: str = "succeeded") -> Deploy:
    return Deploy(id=i, service="checkout", started_at=T + timedelta(minutes=minutes), status=status, sha=f"{i * 7}")


DEPLOYS = [deploy("3", -300), deploy("4", -120), deploy("5", -45, "failed"), deploy("6", -2)]
CHANGES = [
    ChangeRef(kind="deploy", id="6", service="checkout", at=T - timedelta(minutes=2), evidence=["2 min before onset"]),
    ChangeRef(kind="deploy", id="4", service="checkout", at=T - timedelta(minutes=120)),
]
FACTS = AssessOutput(
    onset=T, changes=CHANGES, suspect_change=CHANGES[0], blast_radius=BlastRadius(error_ratio=0.3),
    rollback_target=RollbackTarget(id="4", at=T - timedelta(minutes=120), service="checkout"),
)


def test_times_and_rates_come_from_the_analysers():
    invented = AssessOutput(onset=datetime(2020, 1, 1, tzinfo=UTC), blast_radius=BlastRadius(error_ratio=0.99), broken="POST /api/checkout")
    out = merge(invented, FACTS, DEPLOYS)
    assert out.onset == T and out.blast_radius.error_ratio == 0.3
    assert out.broken == "POST /api/checkout"  # the model's explanation stays
    assert out.suspect_change == CHANGES[0] and out.rollback_target.id == "4"


def test_a_model_suspect_is_kept_only_if_the_evidence_holds_it():
    other = ChangeRef(kind="deploy", id="4", at=datetime(2020, 1, 1, tzinfo=UTC), evidence=["the model's reason"])
    out = merge(AssessOutput(suspect_change=other), FACTS, DEPLOYS)
    assert out.suspect_change.id == "4" and out.suspect_change.at == CHANGES[1].at  # the record's time
    assert out.suspect_change.evidence == ["the model's reason"]
    assert out.rollback_target.id == "3"  # recomputed: the last successful deploy before 4
    made_up = ChangeRef(kind="deploy", id="99", at=T)
    assert merge(AssessOutput(suspect_change=made_up), FACTS, DEPLOYS).suspect_change == CHANGES[0]


def test_contain_keeps_vetted_commands_and_never_leads_with_a_rollback_for_an_external_cause():
    rollback = ProposedCommand(action="roll back", command="helm rollback checkout 4", kind="rollback")
    failover = ProposedCommand(action="fail over payments", kind="failover")
    vetted = ProposedCommand(action="restart", command="kubectl rollout restart deployment/checkout", vetted=True, kind="restart")
    facts = ContainOutput(mitigations=[failover, vetted], rollback_first=False, note="nothing changed near the onset")
    out = merge(ContainOutput(mitigations=[rollback, failover]), facts, DEPLOYS)
    assert [m.kind for m in out.mitigations] == ["failover", "restart", "rollback"]
    assert out.rollback_first is False and out.note == "nothing changed near the onset"


def test_verify_status_follows_the_rates():
    facts = VerifyOutput(status="not working", errors_per_min_before=14, errors_per_min_after=13, mitigation_at=T)
    out = merge(VerifyOutput(status="working", errors_per_min_after=0.0, residual_issues=["reconcile orders"]), facts, DEPLOYS)
    assert (out.status, out.errors_per_min_after, out.mitigation_at) == ("not working", 13, T)
    assert out.residual_issues == ["reconcile orders"]
