"""The postmortem's times: the key moments (started, alerted, mitigated, ...) and the event table.

Both come from recorded events only. An operator-given time (`command.ran` ran_at,
`status.changed` at) stands for when it happened; the event's own time for when it was said.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from incident import journal as j
from incident.models import ChangeRef
from incident.report import KeyTime, TimelineRow, _change_text, _Facts, _fmt, _when, todo

# ---------------------------------------------------------------- key times

MAX_NOTE_IN_TABLE = 400  # a pasted log in a note belongs in the journal, not in a table cell


def compute_key_times(f: _Facts) -> list[KeyTime]:
    st = f.state
    created = f.events[0].payload
    rows: list[KeyTime] = []

    def add(key: Any, label: str, at: datetime | None, source: str, missing: str) -> None:
        rows.append(KeyTime(key=key, label=label, at=at, source=source if at else "", todo=None if at else todo(missing)))

    if st.started_at is not None:
        src = "the operator's --started" if created.get("started_at") else "onset found in the error timeline (assess)"
        add("started", "Impact started", st.started_at, src, "")
    elif f.diagnose and f.diagnose.onset:  # a post-incident triage skips assess; diagnose carries the onset
        add("started", "Impact started", f.diagnose.onset, "onset found in the error timeline (diagnose)", "")
    else:
        onset = f.timeline.onset if f.timeline else None
        add("started", "Impact started", onset, "evidence/timeline.json onset",
            "when user impact began (first errors); pass --started to `incident new` or check the error timeline")
    add("detected", "Detected (incident opened)", st.detected_at, "incident.created", "when the incident was detected")
    alerted = f.status_events("alerted")
    alerted_at = alerted[0] if alerted else (_when(created.get("alerted_at"), st.created_at) if created.get("alerted_at") else None)
    add("alerted", "Team alerted", alerted_at, "status.changed alerted" if alerted else "incident.created",
        "when the team was paged or alerted (`incident mark ID alerted --at TIME`)")
    mit_src = "command.ran" if st.commands_ran else "status.changed mitigated"
    add("mitigated", "Mitigation applied", st.mitigated_at, mit_src,
        "when a mitigation was applied, if any (`incident mark ID mitigated --at TIME`)")
    recovered, rec_src = st.recovered_at, _recovered_source(f)
    if recovered is None and f.timeline and f.timeline.recovered_at and not f.timeline.still_elevated:
        recovered, rec_src = f.timeline.recovered_at, "evidence/timeline.json (error rate back at baseline)"
    add("recovered", "Recovered", recovered, rec_src, "when the system recovered (`incident mark ID recovered --at TIME`)")
    add("fix_deployed", "Proper fix deployed", st.fix_deployed_at, "status.changed fix-deployed",
        "when the proper fix was deployed, or 'not yet' (`incident mark ID fix-deployed --at TIME`)")
    add("resolved", "Resolved", st.resolved_at, "status.changed resolved",
        "when the incident was resolved (`incident mark ID resolved --at TIME`)")
    return rows


def _recovered_source(f: _Facts) -> str:
    for ev in reversed(f.events):
        if ev.type == j.STATUS_CHANGED and ev.payload.get("status") == "recovered":
            return "status.changed recovered"
        if ev.type == j.PHASE_COMPLETED and ev.payload.get("phase") == "verify" and (ev.payload.get("output") or {}).get("recovered_at"):
            return "verify (error rate back at baseline)"
    return ""


def time_of(rows: list[KeyTime], key: str) -> datetime | None:
    return next((r.at for r in rows if r.key == key), None)


# ---------------------------------------------------------------- the timeline table


def _event_rows(f: _Facts) -> list[TimelineRow]:
    rows: list[TimelineRow] = []
    mitigation_seen = False
    for ev in f.events:
        p, t = ev.payload, ev.type
        if t == j.INCIDENT_CREATED:
            bits = [str(p.get("title") or "")] + [f"{k}: {p[k]}" for k in ("service", "alert", "symptom") if p.get(k)]
            rows.append(TimelineRow(at=ev.at, what="Incident opened", detail="; ".join(b for b in bits if b), event=t))
        elif t == j.SEVERITY_SET:
            rows.append(TimelineRow(at=ev.at, what="Severity set",
                                    detail=f"{p.get('severity')} ({'confirmed' if p.get('confirmed') else 'proposed'})", event=t))
        elif t == j.COMMAND_RAN:
            at = _when(p.get("ran_at"), ev.at) if p.get("ran_at") else ev.at
            what = "Action taken" if mitigation_seen else "Mitigation applied"
            mitigation_seen = True
            cmd = f" (`{p['command']}`)" if p.get("command") else ""
            rows.append(TimelineRow(at=at, what=what, detail=f"{p.get('action', '')}{cmd}", event=t))
        elif t == j.STATUS_CHANGED:
            rows.append(TimelineRow(at=_when(p.get("at"), ev.at), what=_STATUS_LABEL.get(str(p.get("status")), str(p.get("status"))),
                                    detail="marked by the operator", event=t))
        elif t == j.COMMS_DRAFTED:
            nxt = _when(p.get("next_update_at"), ev.at) if p.get("next_update_at") else None
            kind = {"initial": "initial update", "resolved": "resolution notice"}.get(str(p.get("kind")), "update")
            detail = f"{kind} drafted" + (f"; next update due {_fmt(nxt)}" if nxt else "")
            rows.append(TimelineRow(at=ev.at, what="Stakeholders updated", detail=detail, event=t))
        elif t == j.COMMAND_SKIPPED:
            rows.append(TimelineRow(at=ev.at, what="Proposed action not run", detail=str(p.get("action", "")), event=t))
        elif t == j.NOTE_ADDED:
            text = str(p.get("text", ""))
            detail = text if len(text) <= MAX_NOTE_IN_TABLE else text[:MAX_NOTE_IN_TABLE].rstrip() + " … (full note in the journal)"
            rows.append(TimelineRow(at=ev.at, what="Note", detail=detail, event=t))
        elif t == j.PHASE_COMPLETED:
            rows.extend(_phase_rows(ev, f))
    return rows


_STATUS_LABEL = {
    "alerted": "Team alerted",
    "mitigated": "Marked mitigated",
    "recovered": "Recovered",
    "fix-deployed": "Proper fix deployed",
    "resolved": "Resolved",
    "reopened": "Reopened",
}


def _onset_rows(onset: datetime | None, change: ChangeRef | None) -> list[TimelineRow]:
    rows = []
    if onset:
        rows.append(TimelineRow(at=onset, what="Errors began", detail="onset of the sustained error rise (error timeline)", event="evidence"))
    if change:
        rows.append(TimelineRow(at=change.at, what="Change went out",
                                detail=_change_text(change.kind, change.id, change.service, change.summary), event="evidence"))
    return rows


def _phase_rows(ev: j.Event, f: _Facts) -> list[TimelineRow]:
    phase, t = ev.payload.get("phase"), ev.type
    rows: list[TimelineRow] = []
    if phase == "classify" and f.classify:
        rows.append(TimelineRow(at=ev.at, what="Classified", detail=f"{f.classify.classification}, {f.classify.severity} (proposed)", event=t))
    elif phase == "assess" and f.assess:
        a = f.assess
        rows += _onset_rows(a.onset, a.suspect_change)
        rows.append(TimelineRow(at=ev.at, what="Assessed", detail=a.broken or a.summary, event=t))
    elif phase == "contain" and f.contain:
        ms = f.contain.mitigations
        detail = f"{len(ms)} option(s) ranked; first: {ms[0].action}" + (" (runbook-vetted)" if ms[0].vetted else "") if ms else "no mitigation proposed"
        rows.append(TimelineRow(at=ev.at, what="Mitigations proposed", detail=detail, event=t))
    elif phase == "diagnose" and f.diagnose:
        d, a = f.diagnose, f.assess
        # without assess (post-incident), diagnose names the onset and the change
        rows += _onset_rows(None if a and a.onset else d.onset, None if a and a.suspect_change else d.suspect_change)
        rows.append(TimelineRow(at=ev.at, what="Root cause analysed", detail=f"category: {d.category}", event=t))
    elif phase == "verify" and f.verify:
        v = f.verify
        after = f"; {v.errors_per_min_after:g} errors/min after" if v.errors_per_min_after is not None else ""
        checks = [c.status for c in v.checks]
        tally = "; runbook checks: " + ", ".join(f"{checks.count(s)} {s}" for s in ("pass", "fail", "pending", "unknown") if s in checks) if checks else ""
        rows.append(TimelineRow(at=ev.at, what="Verification", detail=f"mitigation {v.status}{after}{tally}", event=t))
    return rows


def build_timeline(f: _Facts, key_times: list[KeyTime]) -> list[TimelineRow]:
    rows = _event_rows(f)
    have = {(r.at, r.what) for r in rows}
    recovered = next((k for k in key_times if k.key == "recovered" and k.at), None)
    if recovered and recovered.at and not any(r.what == "Recovered" for r in rows):
        rows.append(TimelineRow(at=recovered.at, what="Recovered", detail=recovered.source, event="evidence"))
    started = next((k for k in key_times if k.key == "started" and k.at), None)
    if started and started.at and not any(r.what == "Errors began" for r in rows) and (started.at, "Impact started") not in have:
        rows.append(TimelineRow(at=started.at, what="Impact started", detail=started.source, event="evidence"))
    return sorted(rows, key=lambda r: r.at)  # sorted() is stable: same-second events keep journal order
