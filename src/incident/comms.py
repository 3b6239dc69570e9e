"""Stakeholder communication during an incident: drafts, cadence, and status marks.

A status-page update says what users see, since when, and when the next update comes. It never
names a suspected cause: during an incident the cause is a hypothesis, and a public guess that
turns out wrong costs more trust than silence about it. The stakeholder paragraph is longer
(what is broken, who is affected, what is being done, the next update time) but still no ETA to
fix. Each draft is recorded in the journal so the postmortem shows when people were told.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from incident import journal as j
from incident.blameless import actor_names, scrub
from incident.clock import iso, parse_when, to_utc
from incident.errors import UsageError
from incident.models import SCHEMA_VERSION
from incident.state import IncidentState, fold

CommsKind = Literal["initial", "update", "resolved"]
KINDS: tuple[str, ...] = ("initial", "update", "resolved")
MARKS: tuple[str, ...] = ("alerted", "mitigated", "recovered", "fix-deployed", "resolved", "reopened")
DEFAULT_CADENCE = {"SEV-1": 15, "SEV-2": 30, "SEV-3": 60, "SEV-4": 240}
FUTURE_SLACK = timedelta(minutes=1)


class CommsDraft(BaseModel):
    schema_version: int = SCHEMA_VERSION
    incident_id: str
    kind: CommsKind
    severity: str | None = None
    drafted_at: datetime
    status_page: str
    email_subject: str
    email: str
    next_update_at: datetime | None = None
    cadence_minutes: int | None = None


class StatusReport(BaseModel):
    schema_version: int = SCHEMA_VERSION
    incident_id: str
    title: str
    service: str | None = None
    status: str
    severity: str | None = None
    severity_confirmed: bool = False
    classification: str | None = None
    now: datetime
    started_at: datetime | None = None
    detected_at: datetime | None = None
    mitigated_at: datetime | None = None
    recovered_at: datetime | None = None
    fix_deployed_at: datetime | None = None
    resolved_at: datetime | None = None
    impact_minutes: float | None = None  # so far, or until recovery
    phases_done: list[str]
    last_update_at: datetime | None = None
    last_update_kind: str | None = None
    updates_sent: int = 0
    cadence_minutes: int | None = None
    next_update_kind: CommsKind | None = None
    next_update_due: datetime | None = None
    due_in_minutes: float | None = None
    overdue_minutes: float = 0.0
    next_step: str


def cadence_minutes(severity: str | None, cadence: dict[str, int]) -> int:
    """Minutes between updates for a severity. An unknown severity gets the shortest cadence:
    while nobody has judged the impact, over-communicating is the safer mistake."""
    table = cadence or DEFAULT_CADENCE
    if severity in table:
        return int(table[severity])  # type: ignore[index]
    return int(min(table.values()))


def default_kind(state: IncidentState) -> CommsKind:
    if not state.comms:
        return "initial"
    return "resolved" if state.status == "resolved" else "update"


def _clock_time(dt: datetime, now: datetime) -> str:
    dt = to_utc(dt)
    return f"{dt:%H:%M} UTC" if dt.date() == to_utc(now).date() else f"{dt:%b} {dt.day} {dt:%H:%M} UTC"


def _started(state: IncidentState) -> datetime | None:
    """The operator's start time, else the onset assess found, else the one diagnose found
    (a post-incident triage skips assess)."""
    if state.started_at:
        return state.started_at
    onset = (state.output("diagnose") or {}).get("onset")
    try:
        return parse_when(onset) if isinstance(onset, str) and onset else None
    except UsageError:
        return None


def _impact_share(state: IncidentState) -> str | None:
    out = state.output("assess") or {}
    ratio = (out.get("blast_radius") or {}).get("error_ratio")
    if isinstance(ratio, (int, float)) and 0 < ratio <= 1:
        return f"about {ratio * 100:.0f}% of requests"
    return None


_CLAUSE = re.compile(r"\b(is|are|was|were|has|have|keeps?|returns?|returning|fails?|failing|throws?|throwing|times? out)\b", re.I)


def _what(state: IncidentState) -> str:
    """A noun phrase for the problem. The operator's symptom is free text: "500s on /api/pay"
    reads as one, "checkout is returning 500s" does not and is quoted after a plain phrase."""
    kind = "degraded performance" if state.classification == "degraded" else "elevated errors"
    symptom = (state.symptom or "").strip().rstrip(".")
    if not symptom:
        return kind
    return f"{kind} (reported: {symptom})" if _CLAUSE.search(symptom) else symptom


def _status_page(state: IncidentState, kind: CommsKind, now: datetime, nxt: datetime | None) -> str:
    who = state.service or state.title or "our service"
    what = _what(state)
    started = _started(state)
    since = f" since about {_clock_time(started, now)}" if started else ""
    share = _impact_share(state)
    next_line = f"We will post the next update by {_clock_time(nxt, now)}." if nxt else ""
    if kind == "resolved":
        back = state.recovered_at or state.resolved_at
        window = ""
        if started and back:
            window = f" Between {_clock_time(started, now)} and {_clock_time(back, now)}, users saw {what}."
        return (f"This incident is resolved: {who} is operating normally" + (f" since {_clock_time(back, now)}." if back else ".")
                + window + " We are sorry for the disruption; a review is under way to prevent it from happening again.")
    if state.recovered_at:
        head = f"{who} has been operating normally since {_clock_time(state.recovered_at, now)} after {what}{since}. We are monitoring to confirm the recovery."
    elif state.classification == "post-incident":
        start = f"Starting at about {_clock_time(started, now)}, users" if started else "Users"
        head = f"{start} of {who} saw {what}. {who} is operating normally again and we are reviewing what happened."
    elif state.mitigated_at:
        head = f"We have applied a mitigation for {what} affecting {who} and are monitoring the results."
    elif kind == "initial":
        head = f"We are investigating {what} affecting {who}{since}." + (f" It affects {share}." if share else "")
    else:
        head = f"We are still working on {what} affecting {who}{since}." + (f" It affects {share}." if share else "")
    return f"{head} {next_line}".strip()


def _doing(state: IncidentState, now: datetime) -> str:
    if state.commands_ran:
        acts = "; ".join(f"{c.action.rstrip('.')} (at {_clock_time(c.ran_at or c.at, now)})" for c in state.commands_ran[-3:])
        return f"Actions taken: {acts}."
    if state.mitigated_at:
        return f"A mitigation was applied at {_clock_time(state.mitigated_at, now)} and its effect is being monitored."
    contain = state.output("contain") or {}
    options = contain.get("mitigations") or []
    if options:
        return f"The team is weighing {len(options)} mitigation option(s); none has been applied yet."
    if state.last_phase:
        return f"The team is investigating (last step completed: {state.last_phase})."
    return "The team is investigating."


_ISO_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})")


def _readable_times(text: str, now: datetime) -> str:
    """Stakeholders read '14:32 UTC', not '2026-11-21T14:32:00Z' (the analysers' wording)."""
    def one(m: re.Match[str]) -> str:
        try:
            return _clock_time(datetime.fromisoformat(m.group(0).replace("Z", "+00:00")), now)
        except ValueError:
            return m.group(0)

    return _ISO_TIME.sub(one, text)


def _email(state: IncidentState, kind: CommsKind, now: datetime, nxt: datetime | None, cadence: int) -> tuple[str, str]:
    assess = state.output("assess") or {}
    started = _started(state)
    who = state.service or state.title or "the service"
    sev = state.severity or "severity not yet set"
    state_word = {"open": "investigating", "mitigated": "mitigated, monitoring", "resolved": "resolved"}[state.status]
    if state.recovered_at and state.status != "resolved":
        state_word = "recovered, monitoring"
    subject = f"[{sev}] [{state_word}] {state.title or who}"
    broken = _readable_times(str(assess.get("broken") or "").strip().rstrip("."), now) or _what(state)
    affected = (assess.get("blast_radius") or {}).get("affected") or []
    who_line = _impact_share(state) or "the number of affected users is not yet known"
    # The assess phase's wording may carry its own "since <time>": say the time once.
    parts = [f"What is broken: {broken}" + (f", since {_clock_time(started, now)}." if started and " since " not in broken else ".")]
    parts.append(f"Who is affected: users of {who}; {who_line}" + (f" (endpoints: {', '.join(map(str, affected[:5]))})." if affected else "."))
    parts.append(_doing(state, now))
    if kind == "resolved":
        diag = state.output("diagnose") or {}
        found = diag.get("category") not in (None, "", "unknown")
        parts.append("The service is back to normal. " + ("The cause has been identified; " if found else "")
                     + "a blameless postmortem with the timeline and follow-up actions will be shared.")
    else:
        parts.append(f"Current status: {state_word} ({sev}).")
        if nxt:
            parts.append(f"Next update: by {_clock_time(nxt, now)} (every {cadence} minutes at {sev}), or sooner if anything changes.")
    return subject, " ".join(parts)


def draft_comms(state: IncidentState, kind: CommsKind, *, cadence: dict[str, int], now: datetime) -> CommsDraft:
    """Draft a status-page update and a stakeholder paragraph from the incident's state."""
    if kind not in KINDS:
        raise UsageError(f"unknown update kind {kind!r}", "use initial, update or resolved")
    now = to_utc(now)
    minutes = cadence_minutes(state.severity, cadence)
    nxt = None if kind == "resolved" else (now + timedelta(minutes=minutes)).replace(second=0, microsecond=0)
    names = actor_names([], state)
    subject, email = _email(state, kind, now, nxt, minutes)
    return CommsDraft(
        incident_id=state.id,
        kind=kind,
        severity=state.severity,
        drafted_at=now,
        status_page=scrub(_status_page(state, kind, now, nxt), names),
        email_subject=scrub(subject, names),
        email=scrub(email, names),
        next_update_at=nxt,
        cadence_minutes=None if kind == "resolved" else minutes,
    )


def record_comms(journal: j.Journal, draft: CommsDraft) -> j.Event:
    payload: dict[str, Any] = {
        "kind": draft.kind,
        "status_page": draft.status_page,
        "email_subject": draft.email_subject,
        "email": draft.email,
        "next_update_at": iso(draft.next_update_at),
        "severity": draft.severity,
        "cadence_minutes": draft.cadence_minutes,
    }
    return journal.append(j.COMMS_DRAFTED, payload)


def status(state: IncidentState, now: datetime, cadence: dict[str, int]) -> StatusReport:
    """The incident's state and when the next stakeholder update is due (or how overdue it is)."""
    now = to_utc(now)
    minutes = cadence_minutes(state.severity, cadence)
    last = state.comms[-1] if state.comms else None
    kind: CommsKind | None
    if state.status == "resolved":
        told = last is not None and last.kind == "resolved" and (state.resolved_at is None or last.at >= state.resolved_at)
        kind, due = (None, None) if told else ("resolved", state.resolved_at or now)
    elif last is None:
        kind, due = "initial", state.detected_at or state.created_at  # stakeholders hear at once
    else:
        kind = "update"
        # a severity raised since the last update shortens the wait
        candidates = [x for x in (last.next_update_at, last.at + timedelta(minutes=minutes)) if x]
        due = min(candidates)
    end = state.recovered_at or now
    started = _started(state)
    impact = round((end - started).total_seconds() / 60, 1) if started and end >= started else None
    overdue = max(0.0, round((now - due).total_seconds() / 60, 1)) if due else 0.0
    due_in = max(0.0, round((due - now).total_seconds() / 60, 1)) if due else None
    return StatusReport(
        incident_id=state.id, title=state.title, service=state.service, status=state.status, severity=state.severity,
        severity_confirmed=state.severity_confirmed, classification=state.classification, now=now,
        started_at=started, detected_at=state.detected_at, mitigated_at=state.mitigated_at,
        recovered_at=state.recovered_at, fix_deployed_at=state.fix_deployed_at, resolved_at=state.resolved_at,
        impact_minutes=impact, phases_done=list(state.phases), last_update_at=last.at if last else None,
        last_update_kind=last.kind if last else None, updates_sent=len(state.comms),
        cadence_minutes=None if kind is None else minutes, next_update_kind=kind, next_update_due=due,
        due_in_minutes=due_in, overdue_minutes=overdue, next_step=_next_step(state, kind, overdue),
    )


def _next_step(state: IncidentState, kind: CommsKind | None, overdue: float) -> str:
    if kind is None:
        return f"no update due; write the postmortem: incident postmortem {state.id}" if not state.postmortem_path else "no update due"
    cmd = f"incident comms {state.id} --kind {kind}"
    what = "the next update" if kind == "update" else f"the {kind} update"
    if overdue > 0:
        return f"{what} is {overdue:g} min overdue: {cmd}"
    return f"next: {cmd} when it is due"


def mark(journal: j.Journal, status_: str, *, at: datetime | None, now: datetime) -> j.Event:
    """Record a status change the operator reports; `at` is the real time if it was earlier."""
    if status_ not in MARKS:
        raise UsageError(f"unknown status {status_!r}", f"use one of: {', '.join(MARKS)}")
    now = to_utc(now)
    when = to_utc(at) if at is not None else now
    if when > now + FUTURE_SLACK:
        raise UsageError(f"--at {iso(when)} is in the future", "give the time it happened (UTC), e.g. --at 14:43")
    state = fold(journal.read().events, source=journal.path)  # raises NotFound with a hint
    started = _started(state)
    if status_ != "alerted" and started and when < started:
        raise UsageError(
            f"--at {iso(when)} is before the incident started ({iso(started)})",
            "a bare HH:MM means its most recent occurrence; give a full ISO 8601 time to be exact",
        )
    return journal.append(j.STATUS_CHANGED, {"status": status_, "at": iso(when), "given": at is not None})
