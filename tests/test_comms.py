"""Stakeholder updates, their cadence, `status` overdue maths and `mark`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from tests.report_fixtures import active_then_mitigated, external_cause, post_incident, snapshot, t

from incident import journal as j
from incident.comms import (
    DEFAULT_CADENCE,
    cadence_minutes,
    default_kind,
    draft_comms,
    mark,
    record_comms,
    status,
)
from incident.errors import UsageError
from incident.state import IncidentState, fold

# Words that would reveal the suspected cause of scenario A on a public status page.
CAUSE_WORDS = ("rev-27", "rev-26", "deploy", "pool", "config", "roll", "database", "cause")


def state_until(events: list[j.Event], type_: str, phase: str | None = None) -> IncidentState:
    """The state as it was right after the first event of `type_` (and `phase`)."""
    for i, ev in enumerate(events):
        if ev.type == type_ and (phase is None or ev.payload.get("phase") == phase):
            return fold(events[: i + 1])
    raise AssertionError(f"no {type_} {phase or ''}")


def test_initial_update_during_an_active_incident(tmp_path: Path) -> None:
    events = active_then_mitigated(tmp_path).journal.events()
    st = state_until(events, j.PHASE_COMPLETED, "assess")
    d = draft_comms(st, "initial", cadence=DEFAULT_CADENCE, now=t("14:39:40"))
    assert d.next_update_at == t("15:09")  # SEV-2: 30 min, to the minute
    assert d.cadence_minutes == 30
    assert d.status_page == (
        "We are investigating 500s on /api/pay affecting checkout since about 14:33 UTC. "
        "It affects about 23% of requests. We will post the next update by 15:09 UTC."
    )
    assert 2 <= d.status_page.count(". ") + 1 <= 3
    for word in CAUSE_WORDS:
        assert word not in d.status_page.lower(), word
    assert "What is broken: checkout /api/pay returns HTTP 500, since 14:33 UTC." in d.email
    assert "Who is affected: users of checkout; about 23% of requests (endpoints: /api/pay)." in d.email
    assert "Next update: by 15:09 UTC (every 30 minutes at SEV-2)" in d.email
    assert "eta" not in d.email.lower().split()
    assert d.email_subject == "[SEV-2] [investigating] checkout 500s"


@pytest.mark.parametrize("upto", [("phase.completed", "contain"), ("command.ran", None), ("phase.completed", "verify"),
                                  ("phase.completed", "review")])
def test_status_page_never_names_the_suspected_cause(tmp_path: Path, upto: tuple[str, str | None]) -> None:
    events = active_then_mitigated(tmp_path).journal.events()
    st = state_until(events, *upto)
    for kind in ("update", "resolved"):
        page = draft_comms(st, kind, cadence=DEFAULT_CADENCE, now=t("14:59")).status_page.lower()  # type: ignore[arg-type]
        for word in CAUSE_WORDS:
            assert word not in page, (upto, kind, word)


def test_update_after_mitigation_says_what_was_done(tmp_path: Path) -> None:
    events = active_then_mitigated(tmp_path).journal.events()
    st = state_until(events, j.COMMAND_RAN)
    d = draft_comms(st, "update", cadence={"SEV-2": 20}, now=t("14:45"))
    assert d.status_page.startswith("We have applied a mitigation for 500s on /api/pay affecting checkout")
    assert "Actions taken: Roll back checkout to rev-26 (at 14:43 UTC)." in d.email  # internal audience: the action
    assert d.next_update_at == t("15:05")
    assert d.email_subject.startswith("[SEV-2] [mitigated, monitoring]")


def test_resolved_update_has_no_next_update(tmp_path: Path) -> None:
    st = fold(active_then_mitigated(tmp_path).journal.events())
    d = draft_comms(st, "resolved", cadence=DEFAULT_CADENCE, now=t("10:31", 22))
    assert d.next_update_at is None and d.cadence_minutes is None
    assert d.status_page.startswith("This incident is resolved: checkout is operating normally since Nov 21 14:47 UTC.")
    assert "Between Nov 21 14:33 UTC and Nov 21 14:47 UTC, users saw 500s on /api/pay." in d.status_page
    assert "The cause has been identified" in d.email and "postmortem" in d.email
    assert "alice" not in d.email.lower()


def test_cadence_by_severity() -> None:
    assert [cadence_minutes(s, DEFAULT_CADENCE) for s in ("SEV-1", "SEV-2", "SEV-3")] == [15, 30, 60]
    assert cadence_minutes(None, DEFAULT_CADENCE) == 15  # unknown: the shortest
    assert cadence_minutes("SEV-3", {"SEV-3": 45}) == 45
    assert cadence_minutes("SEV-2", {}) == 30


def test_default_kind_follows_the_state(tmp_path: Path) -> None:
    events = active_then_mitigated(tmp_path).journal.events()
    assert default_kind(state_until(events, j.PHASE_COMPLETED, "assess")) == "initial"
    assert default_kind(state_until(events, j.COMMS_DRAFTED)) == "update"
    assert default_kind(fold(events)) == "resolved"


def test_record_comms_reaches_the_timeline(tmp_path: Path) -> None:
    b = external_cause(tmp_path)
    st = fold(b.journal.events())
    b.clock.now = t("16:13")
    d = draft_comms(st, "update", cadence=DEFAULT_CADENCE, now=b.clock.now)
    ev = record_comms(b.journal, d)
    assert ev.at == t("16:13") and ev.payload["next_update_at"] == "2026-11-21T16:43:00Z"
    st2 = fold(b.journal.events())
    assert st2.comms[-1].kind == "update" and st2.comms[-1].next_update_at == t("16:43")
    assert st2.comms[-1].status_page == d.status_page


def test_status_with_no_update_yet_is_overdue_since_detection(tmp_path: Path) -> None:
    st = state_until(active_then_mitigated(tmp_path).journal.events(), j.PHASE_COMPLETED, "assess")
    r = status(st, t("14:50"), DEFAULT_CADENCE)
    assert r.next_update_kind == "initial" and r.next_update_due == t("14:38")
    assert r.overdue_minutes == 12.0 and r.due_in_minutes == 0.0
    assert "12 min overdue" in r.next_step and "--kind initial" in r.next_step
    assert r.impact_minutes == 17.0  # 14:33 onset to now


def test_status_due_and_overdue_after_an_update(tmp_path: Path) -> None:
    events = active_then_mitigated(tmp_path).journal.events()
    st = state_until(events, j.COMMS_DRAFTED)  # initial at 14:40, next due 15:10
    r = status(st, t("14:55"), DEFAULT_CADENCE)
    assert r.next_update_due == t("15:10") and r.due_in_minutes == 15.0 and r.overdue_minutes == 0.0
    r = status(st, t("15:22:30"), DEFAULT_CADENCE)
    assert r.overdue_minutes == 12.5 and r.next_update_kind == "update"
    # raised to SEV-1 after the update: the next one is due 15 min after it, not 30
    st.severity = "SEV-1"
    assert status(st, t("14:50"), DEFAULT_CADENCE).next_update_due == t("14:55")


def test_status_after_resolution(tmp_path: Path) -> None:
    b = post_incident(tmp_path)
    mark(b.journal, "resolved", at=None, now=b.clock.now)
    st = fold(b.journal.events())
    r = status(st, b.clock.now + timedelta(minutes=5), DEFAULT_CADENCE)
    assert r.next_update_kind == "resolved" and r.overdue_minutes == 5.0
    record_comms(b.journal, draft_comms(st, "resolved", cadence=DEFAULT_CADENCE, now=b.clock.now))
    r = status(fold(b.journal.events()), b.clock.now + timedelta(hours=3), DEFAULT_CADENCE)
    assert r.next_update_kind is None and r.next_update_due is None and r.overdue_minutes == 0.0
    assert "postmortem" in r.next_step


def test_mark_records_the_given_time(tmp_path: Path) -> None:
    b = post_incident(tmp_path)
    now = b.clock.now
    ev = mark(b.journal, "mitigated", at=now - timedelta(minutes=20), now=now)
    assert ev.payload == {"status": "mitigated", "at": "2026-11-22T08:10:00Z", "given": True}
    mark(b.journal, "fix-deployed", at=None, now=now)
    st = fold(b.journal.events())
    assert st.mitigated_at == now - timedelta(minutes=20) and st.status == "mitigated"
    assert st.fix_deployed_at == now
    with pytest.raises(UsageError, match="in the future"):
        mark(b.journal, "recovered", at=now + timedelta(minutes=5), now=now)
    with pytest.raises(UsageError, match="unknown status"):
        mark(b.journal, "fixed", at=None, now=now)
    # started 22:10 the day before: a recovery before that is a misread HH:MM, not a fact
    with pytest.raises(UsageError, match="before the incident started"):
        mark(b.journal, "recovered", at=t("21:00"), now=now)


def test_snapshot_initial_comms(tmp_path: Path) -> None:
    st = state_until(active_then_mitigated(tmp_path).journal.events(), j.PHASE_COMPLETED, "assess")
    d = draft_comms(st, "initial", cadence=DEFAULT_CADENCE, now=t("14:39:40"))
    snapshot("comms_initial.txt", f"subject: {d.email_subject}\n\nstatus page:\n{d.status_page}\n\nemail:\n{d.email}\n")


def test_post_incident_update_says_the_service_is_back(tmp_path: Path) -> None:
    st = fold(post_incident(tmp_path).journal.events())
    d = draft_comms(st, "initial", cadence=DEFAULT_CADENCE, now=t("08:40", 22))
    assert d.status_page == (
        "Starting at about Nov 21 22:10 UTC, users of exports saw export files missing. "
        "exports is operating normally again and we are reviewing what happened. "
        "We will post the next update by 09:40 UTC."
    )
    assert "disk" not in d.status_page  # the diagnosed cause stays off the status page


def test_stakeholders_read_clock_times_once() -> None:
    from datetime import UTC, datetime

    from incident.comms import _readable_times

    now = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    assert _readable_times("errors since 2026-11-21T14:32:00Z on /api/checkout", now) == "errors since 14:32 UTC on /api/checkout"
    assert _readable_times("since 2026-11-20T23:05:10.5+00:00", now) == "since Nov 20 23:05 UTC"
    assert _readable_times("version 2026-11-21 and sha 14:32", now) == "version 2026-11-21 and sha 14:32"
