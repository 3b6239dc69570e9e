"""The postmortem, built from the journal: recorded events and phase outputs, never memory.

`build_postmortem` turns an incident's events into a `Postmortem` (the structured form behind
`incident postmortem --json`); `render_postmortem_markdown` and `draft_narrative` live in
`report_text.py` and are re-exported here. Every time in a postmortem is a recorded time; where
the journal lacks a fact the field says `TODO: <what to fill in>` instead of guessing.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from incident import journal as j
from incident.blameless import actor_names, scrub_model
from incident.clock import iso, parse_when
from incident.models import (
    SCHEMA_VERSION,
    ActionItem,
    AssessOutput,
    ClassifyOutput,
    ContainOutput,
    Deploy,
    DiagnoseOutput,
    ErrorTimeline,
    FixOutput,
    ReviewOutput,
    VerifyOutput,
)
from incident.state import IncidentState

if TYPE_CHECKING:
    from collections.abc import Callable

TODO = "TODO:"
MAX_EVIDENCE_BYTES = 5_000_000  # evidence files are read for the chart and names only; bound hostile sizes


def todo(what: str) -> str:
    return f"{TODO} {what}"


def is_todo(text: str | None) -> bool:
    return bool(text) and str(text).startswith(TODO)


# ---------------------------------------------------------------- the structured postmortem


class KeyTime(BaseModel):
    key: Literal["started", "detected", "alerted", "mitigated", "recovered", "fix_deployed", "resolved"]
    label: str
    at: datetime | None = None
    source: str = ""  # which recorded event or evidence the time comes from
    todo: str | None = None  # set when the journal does not have this time


class TimelineRow(BaseModel):
    at: datetime
    what: str
    detail: str = ""
    event: str  # the journal event type (or evidence) the row comes from


class Impact(BaseModel):
    narrative: str
    broken: str
    duration_minutes: float | None = None
    errors_since_onset: int | None = None
    error_ratio: float | None = None
    peak_errors_per_min: float | None = None
    errors_per_min_before: float | None = None
    errors_per_min_after: float | None = None
    affected: list[str] = Field(default_factory=list)
    users: str  # logs count requests, not users: always the operator's to fill in unless noted
    revenue_or_data: str
    slo: str


class RootCause(BaseModel):
    narrative: str
    trigger: str
    mechanism: str
    impact: str
    why_not_caught: str
    category: str
    implicated_files: list[str] = Field(default_factory=list)
    related_risks: list[str] = Field(default_factory=list)
    suspect_change: str | None = None
    mitigation_sufficient: bool | None = None


class AppliedAction(BaseModel):
    at: datetime
    action: str
    command: str | None = None
    kind: str = "other"
    vetted: bool = False


class MitigationAndFix(BaseModel):
    narrative: str
    applied: list[AppliedAction] = Field(default_factory=list)
    effectiveness: str
    residual_issues: list[str] = Field(default_factory=list)
    fix_plan: list[str] = Field(default_factory=list)
    fix_deployed: bool = False
    files_changed: list[str] = Field(default_factory=list)
    tests_added: list[str] = Field(default_factory=list)
    mitigation_removable_after_fix: bool | None = None
    not_addressed: list[str] = Field(default_factory=list)


class ActionItemRow(ActionItem):
    unassigned: bool = True


class Lessons(BaseModel):
    went_well: list[str] = Field(default_factory=list)
    could_improve: list[str] = Field(default_factory=list)


class EvidenceLink(BaseModel):
    path: str  # relative to the incident folder
    label: str
    exists: bool = True


class Postmortem(BaseModel):
    schema_version: int = SCHEMA_VERSION
    incident_id: str
    title: str
    service: str | None = None
    severity: str | None = None
    classification: str | None = None
    status: str
    as_of: datetime | None = None  # the last recorded event the postmortem reflects
    engine: str = "offline"  # who wrote the narrative text: offline (from facts) or claude
    summary: str
    detection: str
    key_times: list[KeyTime]
    impact_minutes: float | None = None
    timeline: list[TimelineRow]
    impact: Impact
    root_cause: RootCause
    mitigation: MitigationAndFix
    contributing_factors: list[str] = Field(default_factory=list)
    action_items: list[ActionItemRow] = Field(default_factory=list)
    lessons: Lessons
    chart: str | None = None
    evidence: list[EvidenceLink] = Field(default_factory=list)
    todos: list[str] = Field(default_factory=list)  # every missing fact, for a checklist
    warnings: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------- reading the journal


class _Facts:
    """The phase outputs and evidence a postmortem is built from, parsed once."""

    def __init__(self, state: IncidentState, events: list[j.Event], folder: Path):
        self.state = state
        self.events = events
        self.folder = folder
        self.warnings: list[str] = []
        self.classify = self._out("classify", ClassifyOutput)
        self.assess = self._out("assess", AssessOutput)
        self.contain = self._out("contain", ContainOutput)
        self.diagnose = self._out("diagnose", DiagnoseOutput)
        self.fix = self._out("fix", FixOutput)
        self.verify = self._out("verify", VerifyOutput)
        self.review = self._out("review", ReviewOutput)
        self.timeline: ErrorTimeline | None = self._evidence_json("timeline.json", ErrorTimeline)
        deploys = self._evidence_json("deploys.json", list[Deploy])
        self.deploys: list[Deploy] = deploys or []

    def _out(self, phase: str, model: Any) -> Any:
        raw = self.state.output(phase)
        if raw is None:
            return None
        try:
            return model.model_validate(raw)
        except ValidationError as e:
            self.warnings.append(f"the recorded {phase} output does not match its model ({e.error_count()} errors); ignored")
            return None

    def _evidence_json(self, name: str, model: Any) -> Any:
        path = self.folder / "evidence" / name
        try:
            if not path.is_file() or path.stat().st_size > MAX_EVIDENCE_BYTES:
                return None
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            self.warnings.append(f"evidence/{name}: unreadable ({e.__class__.__name__}); left out")
            return None
        from pydantic import TypeAdapter

        try:
            return TypeAdapter(model).validate_python(data)
        except ValidationError:
            self.warnings.append(f"evidence/{name}: not in the expected shape; left out")
            return None

    def status_events(self, status: str) -> list[datetime]:
        out = []
        for ev in self.events:
            if ev.type == j.STATUS_CHANGED and ev.payload.get("status") == status:
                out.append(_when(ev.payload.get("at"), ev.at))
        return out


def _when(value: Any, default: datetime) -> datetime:
    if isinstance(value, str) and value:
        try:
            return parse_when(value)
        except Exception:  # a hand-edited journal: the event's own time still stands
            return default
    return default


def _known(text: str | None) -> bool:
    return bool(text) and str(text).strip().lower() not in ("unknown", "n/a", "none", "")


def _fmt(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%SZ") if dt else "-"


def _minutes(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None or b < a:
        return None
    return round((b - a).total_seconds() / 60, 1)


def duration_text(minutes: float | None) -> str:
    if minutes is None:
        return "-"
    total = int(round(minutes))
    h, m = divmod(total, 60)
    return f"{h} h {m} min" if h else f"{m} min"


# ---------------------------------------------------------------- key times


def _key_times(f: _Facts) -> list[KeyTime]:
    st = f.state
    created = f.events[0].payload
    rows: list[KeyTime] = []

    def add(key: Any, label: str, at: datetime | None, source: str, missing: str) -> None:
        rows.append(KeyTime(key=key, label=label, at=at, source=source if at else "", todo=None if at else todo(missing)))

    if st.started_at is not None:
        src = "the operator's --started" if created.get("started_at") else "onset found in the error timeline (assess)"
        add("started", "Impact started", st.started_at, src, "")
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


def _time_of(rows: list[KeyTime], key: str) -> datetime | None:
    return next((r.at for r in rows if r.key == key), None)


# ---------------------------------------------------------------- the timeline table


def _event_rows(f: _Facts) -> list[TimelineRow]:
    rows: list[TimelineRow] = []
    mitigation_seen = False
    for ev in f.events:
        p, t = ev.payload, ev.type
        if t == j.INCIDENT_CREATED:
            bits = [p.get("title") or ""] + [f"{k}: {p[k]}" for k in ("service", "alert", "symptom") if p.get(k)]
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
            detail = f"{p.get('kind', 'update')} update drafted" + (f"; next update due {_fmt(nxt)}" if nxt else "")
            rows.append(TimelineRow(at=ev.at, what="Stakeholders updated", detail=detail, event=t))
        elif t == j.NOTE_ADDED:
            rows.append(TimelineRow(at=ev.at, what="Note", detail=str(p.get("text", "")), event=t))
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


def _phase_rows(ev: j.Event, f: _Facts) -> list[TimelineRow]:
    phase, t = ev.payload.get("phase"), ev.type
    rows: list[TimelineRow] = []
    if phase == "classify" and f.classify:
        rows.append(TimelineRow(at=ev.at, what="Classified", detail=f"{f.classify.classification}, {f.classify.severity} (proposed)", event=t))
    elif phase == "assess" and f.assess:
        a = f.assess
        if a.onset:
            rows.append(TimelineRow(at=a.onset, what="Errors began", detail="onset of the sustained error rise (error timeline)", event="evidence"))
        if a.suspect_change:
            c = a.suspect_change
            rows.append(TimelineRow(at=c.at, what="Change went out", detail=_change_text(c.kind, c.id, c.service, c.summary), event="evidence"))
        rows.append(TimelineRow(at=ev.at, what="Assessed", detail=a.broken or a.summary, event=t))
    elif phase == "diagnose" and f.diagnose:
        d = f.diagnose
        rows.append(TimelineRow(at=ev.at, what="Root cause analysed", detail=f"category: {d.category}", event=t))
    elif phase == "verify" and f.verify:
        v = f.verify
        rows.append(TimelineRow(at=ev.at, what="Mitigation verified", detail=f"status: {v.status}", event=t))
    return rows


def _change_text(kind: str, ident: str, service: str | None, summary: str) -> str:
    # "the deploy of rev 27": the change, never the person who shipped it
    what = f"the {kind} of {ident}" + (f" to {service}" if service else "")
    return f"{what} ({summary})" if summary else what


def _timeline(f: _Facts, key_times: list[KeyTime]) -> list[TimelineRow]:
    rows = _event_rows(f)
    have = {(r.at, r.what) for r in rows}
    recovered = next((k for k in key_times if k.key == "recovered" and k.at), None)
    if recovered and recovered.at and not any(r.what == "Recovered" for r in rows):
        rows.append(TimelineRow(at=recovered.at, what="Recovered", detail=recovered.source, event="evidence"))
    started = next((k for k in key_times if k.key == "started" and k.at), None)
    if started and started.at and not any(r.what == "Errors began" for r in rows) and (started.at, "Impact started") not in have:
        rows.append(TimelineRow(at=started.at, what="Impact started", detail=started.source, event="evidence"))
    return sorted(rows, key=lambda r: r.at)  # sorted() is stable: same-second events keep journal order


# ---------------------------------------------------------------- the public builder


def build_postmortem(state: IncidentState, events: list[j.Event], folder: Path, *, slo_target: float | None) -> Postmortem:
    """Build the postmortem for one incident from its events (already folded into `state`)."""
    from incident.report_sections import (
        action_items,
        contributing,
        detection,
        evidence_links,
        impact,
        lessons,
        mitigation,
        root_cause,
        summary,
    )
    from incident.report_text import text_chart

    f = _Facts(state, events, folder)
    key_times = _key_times(f)
    started, recovered = _time_of(key_times, "started"), _time_of(key_times, "recovered")
    impact_minutes = _minutes(started, recovered)
    pm = Postmortem(
        incident_id=state.id,
        title=state.title,
        service=state.service,
        severity=state.severity,
        classification=state.classification,
        status=state.status,
        as_of=state.last_event_at,
        summary="",
        detection=detection(f),
        key_times=key_times,
        impact_minutes=impact_minutes,
        timeline=_timeline(f, key_times),
        impact=impact(f, started, recovered, impact_minutes, slo_target),
        root_cause=root_cause(f),
        mitigation=mitigation(f),
        contributing_factors=contributing(f),
        action_items=action_items(f),
        lessons=lessons(f),
        chart=text_chart(f.timeline, f.deploys) if f.timeline else None,
        evidence=evidence_links(f),
        warnings=f.warnings,
    )
    pm.summary = summary(f, pm)
    pm = scrub_model(pm, actor_names(f.deploys, state))
    pm.todos = collect_todos(pm)
    return pm


def collect_todos(pm: Postmortem) -> list[str]:
    found: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, str):
            found.extend(line[line.index(TODO) :].strip() for line in v.splitlines() if TODO in line)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(pm.model_dump(exclude={"todos", "timeline"}))
    return list(dict.fromkeys(found))


def render_postmortem_markdown(pm: Postmortem, *, template: Path | None = None) -> str:
    from incident.report_text import render_postmortem_markdown as _render

    return _render(pm, template=template)


def draft_narrative(pm: Postmortem, complete: Callable[[str, str], str]) -> Postmortem:
    from incident.report_text import draft_narrative as _draft

    return _draft(pm, complete)


__all__ = [
    "Postmortem",
    "build_postmortem",
    "render_postmortem_markdown",
    "draft_narrative",
    "duration_text",
    "todo",
    "is_todo",
    "iso",
]
