"""Journals for the report tests, built by appending real events (phase outputs are real models).

Three scenarios from the triage workflow:
- `active_then_mitigated`: a deploy breaks checkout; rollback; verify; diagnose; fix; review.
- `post_incident`: already recovered when opened; no contain phase, no command ran.
- `external_cause`: a payment provider times out; no suspect change; failover.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from incident import journal as j
from incident.clock import iso
from incident.journal import Journal, Workspace
from incident.models import (
    ActionItem,
    AssessOutput,
    BlastRadius,
    ChangeRef,
    ClassifyOutput,
    ContainOutput,
    Deploy,
    DiagnoseOutput,
    ErrorTimeline,
    FixOutput,
    LogPattern,
    ProposedCommand,
    ReviewOutput,
    RollbackTarget,
    TimelineBucket,
    VerifyOutput,
)

SNAPSHOTS = Path(__file__).parent / "snapshots"
ACTORS = ("alice", "Bob Jones", "carol@example.com")


def t(hhmm: str, day: int = 21) -> datetime:
    h, m, *s = (int(x) for x in hhmm.split(":"))
    return datetime(2026, 11, day, h, m, s[0] if s else 0, tzinfo=UTC)


@dataclass
class StepClock:
    now: datetime = field(default_factory=lambda: t("14:00"))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Built:
    journal: Journal
    clock: StepClock

    @property
    def folder(self) -> Path:
        return self.journal.folder

    def at(self, when: datetime, type_: str, payload: dict | None = None) -> j.Event:
        self.clock.now = when
        return self.journal.append(type_, payload or {})

    def phase(self, when: datetime, name: str, output: object, engine: str = "offline") -> j.Event:
        dumped = output.model_dump(mode="json")  # type: ignore[attr-defined]
        return self.at(when, j.PHASE_COMPLETED, {"phase": name, "engine": engine, "output": dumped})

    def evidence(self, when: datetime, name: str, content: str) -> None:
        path = self.folder / "evidence" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(content, encoding="utf-8")
        self.at(when, j.EVIDENCE_SAVED, {"path": f"evidence/{name}", "kind": name.split(".")[0]})


def new(root: Path, title: str, when: datetime, **payload: object) -> Built:
    clock = StepClock(when)
    ws = Workspace(root, clock)
    return Built(ws.create(title, {"service": None, "symptom": None, "alert": None, "started_at": None, "severity": None, **payload}), clock)


def _timeline(start: datetime, minutes: int, bad: range, *, peak: int = 120, recovered: datetime | None = None) -> ErrorTimeline:
    buckets = []
    for i in range(minutes):
        errors = peak if i in bad else 1 if i % 7 == 0 else 0
        buckets.append(TimelineBucket(at=start + timedelta(minutes=i), errors=errors, total=500))
    onset = start + timedelta(minutes=bad.start)
    return ErrorTimeline(
        start=start, end=start + timedelta(minutes=minutes), buckets=buckets, baseline_errors_per_min=0.2,
        onset=onset, peak_errors_per_min=peak, recent_errors_per_min=0.1, still_elevated=False,
        recovered_at=recovered or start + timedelta(minutes=bad.stop), total_lines=minutes * 500,
        error_lines=sum(b.errors for b in buckets), files=["logs/app.log"],
    )


def active_then_mitigated(root: Path) -> Built:
    b = new(root, "checkout 500s", t("14:38"), service="checkout", symptom="500s on /api/pay", alert="CheckoutErrorRate")
    b.at(t("14:38:01"), j.TRIAGE_STARTED, {"engine": "offline"})
    deploys = [
        Deploy(id="rev-26", service="checkout", started_at=t("09:00"), status="succeeded", actor="Bob Jones", description="routine release", source="jsonl"),
        Deploy(id="rev-27", service="checkout", sha="abc1234", started_at=t("14:31"), finished_at=t("14:32"), status="succeeded",
               actor="alice", description="alice: bump DB pool size", source="jsonl"),
    ]
    b.evidence(t("14:38:02"), "timeline.json", _timeline(t("14:00"), 70, range(33, 47)).model_dump_json(indent=1))
    b.evidence(t("14:38:02"), "deploys.json", json.dumps([d.model_dump(mode="json") for d in deploys], indent=1))
    b.evidence(t("14:38:03"), "error-samples.log", "2026-11-21T14:33:02Z ERROR pool exhausted (size=5) path=/api/pay\n")
    pats = [LogPattern(template="ERROR pool exhausted (size=<*>) path=<*>", count=840, first_seen=t("14:33:02"), new=True)]
    b.evidence(t("14:38:03"), "patterns.json", json.dumps([p.model_dump(mode="json") for p in pats]))
    b.evidence(t("14:38:04"), "suspect.diff", "-pool_size: 20\n+pool_size: 5\n")
    b.at(t("14:38:05"), j.STATUS_CHANGED, {"status": "alerted", "at": iso(t("14:35"))})
    b.phase(t("14:38:10"), "classify", ClassifyOutput(classification="active", severity="SEV-2", severity_reason="checkout payments failing"))
    b.at(t("14:38:30"), j.SEVERITY_SET, {"severity": "SEV-2", "confirmed": True})
    suspect = ChangeRef(kind="deploy", id="rev-27", sha="abc1234", service="checkout", at=t("14:32"),
                        summary="deployed by alice: bump DB pool size", minutes_before_onset=1.0)
    b.phase(t("14:39"), "assess", AssessOutput(
        broken="checkout /api/pay returns HTTP 500", onset=t("14:33"),
        blast_radius=BlastRadius(error_ratio=0.23, errors_since_onset=840, affected=["/api/pay"], trend="stable"),
        changes=[suspect], suspect_change=suspect, likely_trigger="recent change",
        rollback_target=RollbackTarget(id="rev-26", at=t("09:00"), service="checkout"),
    ))
    b.at(t("14:40"), j.COMMS_DRAFTED, {"kind": "initial", "status_page": "We are investigating errors in checkout.",
                                     "email": "...", "next_update_at": iso(t("15:10"))})
    rollback = ProposedCommand(action="Roll back checkout to rev-26", command="helm rollback checkout 26", kind="rollback", vetted=True,
                               risk="low", reversibility="redeploy rev-27", time_to_effect="2 min")
    b.phase(t("14:41"), "contain", ContainOutput(mitigations=[rollback], rollback_first=True))
    b.at(t("14:44:30"), j.COMMAND_RAN, {"action": rollback.action, "command": rollback.command, "kind": "rollback",
                                       "vetted": True, "ran_at": iso(t("14:43"))})
    b.at(t("14:46"), j.NOTE_ADDED, {"text": "alice confirms the error rate is falling on the dashboard", "author": "alice"})
    b.phase(t("14:52"), "verify", VerifyOutput(
        mitigation_at=t("14:43"), errors_per_min_before=120, errors_per_min_after=0.1, status="working",
        recovered_at=t("14:47"), fix_still_needed=True, residual_issues=["orders stuck in 'pending' during the window"],
    ))
    b.phase(t("14:55"), "diagnose", DiagnoseOutput(
        root_cause="The deploy of rev-27 by alice lowered the database pool from 20 to 5 connections, so checkout requests waited for a connection and timed out.",
        trigger="the deploy of rev-27 (bump DB pool size)", mechanism="pool exhaustion under normal load made /api/pay time out with HTTP 500",
        impact="23% of payment requests failed", why_not_caught="the staging load test runs with a single worker",
        category="configuration error", implicated_files=["config/db.yaml"],
        contributing_factors=["no alert on connection-pool saturation", "config changes skip the canary stage"],
        related_risks=["the orders service reads the same pool setting"], mitigation_sufficient=False,
    ))
    b.phase(t("14:57"), "fix", FixOutput(
        plan=["restore pool_size to 20", "validate pool_size against the worker count at startup"],
        files_to_change=["config/db.yaml", "src/checkout/db.py"], tests_to_add=["test_pool_size_validated_at_startup"],
        mitigation_removable_after_fix=True,
    ))
    b.phase(t("14:59"), "review", ReviewOutput(
        action_items=[
            ActionItem(description="Alert on connection-pool saturation", priority="P1", owner="bob", category="monitoring"),
            ActionItem(description="Deploy the pool_size validation fix", priority="P0", category="code fix"),
            ActionItem(description="Route config changes through the canary", priority="P2", category="process"),
        ],
        went_well=["the rollback target was known within a minute", "the vetted rollback command worked first time"],
        could_improve=["config changes deploy without a canary"],
    ))
    b.at(t("15:01"), j.COMMS_DRAFTED, {"kind": "resolved", "status_page": "Resolved.", "email": "...", "next_update_at": None})
    b.at(t("10:05", 22), j.STATUS_CHANGED, {"status": "fix-deployed", "at": iso(t("10:00", 22))})
    b.at(t("10:30", 22), j.STATUS_CHANGED, {"status": "resolved", "at": iso(t("10:30", 22))})
    b.at(t("10:31", 22), j.TRIAGE_FINISHED, {})
    return b


def post_incident(root: Path) -> Built:
    b = new(root, "nightly export stalled", t("08:10", 22), service="exports", symptom="export files missing",
            started_at=iso(t("22:10")))
    b.evidence(t("08:11", 22), "timeline.json", _timeline(t("22:00"), 60, range(10, 25), peak=40).model_dump_json())
    b.phase(t("08:12", 22), "classify", ClassifyOutput(classification="post-incident", severity="SEV-3", start_phase="diagnose"))
    b.phase(t("08:20", 22), "diagnose", DiagnoseOutput(
        root_cause="The export job ran out of disk on the worker and stopped writing files.",
        trigger="a larger than usual export (month-end)", mechanism="the worker's scratch volume filled up and writes failed",
        impact="exports for 22:10-22:25 were not produced", why_not_caught="there is no disk-usage alert on export workers",
        category="infrastructure / capacity issue",
    ))
    b.phase(t("08:25", 22), "fix", FixOutput(plan=["stream exports instead of staging them on disk"], files_to_change=["exports/job.py"],
                                          tests_to_add=["test_export_streams_large_batches"]))
    b.phase(t("08:30", 22), "review", ReviewOutput(action_items=[ActionItem(description="Alert on export worker disk usage", priority="P1")]))
    return b


def external_cause(root: Path) -> Built:
    b = new(root, "payments timing out", t("16:02"), service="payments", symptom="card payments time out", alert="PaymentsLatency")
    b.phase(t("16:03"), "classify", ClassifyOutput(classification="degraded", severity="SEV-2"))
    b.phase(t("16:05"), "assess", AssessOutput(
        broken="card payments time out at the provider", onset=t("15:50"),
        blast_radius=BlastRadius(error_ratio=0.4, errors_since_onset=310, affected=["/api/charge"]),
        likely_trigger="external factor",
    ))
    failover = ProposedCommand(action="Switch card payments to the backup provider", command="payctl provider set backup",
                               kind="failover", vetted=True)
    b.phase(t("16:07"), "contain", ContainOutput(mitigations=[failover], rollback_first=False, note="no change correlates with the onset"))
    b.at(t("16:12"), j.COMMAND_RAN, {"action": failover.action, "command": failover.command, "kind": "failover", "vetted": True})
    b.phase(t("16:20"), "verify", VerifyOutput(errors_per_min_before=45, errors_per_min_after=3, status="partially working",
                                            residual_issues=["3-D Secure still routes to the primary provider"]))
    b.at(t("16:40"), j.STATUS_CHANGED, {"status": "recovered", "at": iso(t("16:38"))})
    b.phase(t("16:45"), "diagnose", DiagnoseOutput(
        root_cause="The primary payment provider had an outage; our client waited the full 30 s timeout on every call.",
        trigger="payment provider outage", mechanism="no circuit breaker: each request held a worker for 30 s",
        impact="40% of card payments failed", why_not_caught="provider failures were never exercised in tests",
        category="external dependency failure", contributing_factors=["client timeout of 30 s is far above the p99 of 800 ms"],
    ))
    b.phase(t("16:50"), "review", ReviewOutput(
        action_items=[ActionItem(description="Add a circuit breaker to the provider client", priority="P1")],
        went_well=["the vetted failover command restored most payments in minutes"],
        could_improve=["3-D Secure has no backup route"],
    ))
    return b


def snapshot(name: str, text: str) -> None:
    """Compare `text` with tests/snapshots/<name>; UPDATE_SNAPSHOTS=1 rewrites the file instead."""
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if os.environ.get("UPDATE_SNAPSHOTS") != "1":
            raise AssertionError(f"snapshot {name} did not exist; written — review it and rerun")
        return
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} changed; if intended, rerun with UPDATE_SNAPSHOTS=1 and review the diff"
