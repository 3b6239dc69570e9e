"""An incident's state is a fold over its journal events."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from incident import journal as j
from incident.clock import parse_when
from incident.errors import StorageError
from incident.models import PHASE_ORDER, Usage


class Note(BaseModel):
    at: datetime
    text: str
    author: str | None = None


class PhaseRecord(BaseModel):
    phase: str
    engine: str
    at: datetime
    output: dict[str, Any]
    usage: Usage | None = None


class CommandRecord(BaseModel):
    at: datetime  # when the operator said they ran it (clock time at their answer)
    action: str
    command: str | None = None
    ran_at: datetime | None = None  # an earlier time the operator gave, if any
    kind: str = "other"
    vetted: bool = False


class CommsRecord(BaseModel):
    at: datetime
    kind: str
    status_page: str = ""
    next_update_at: datetime | None = None


class IncidentState(BaseModel):
    # The fold assigns payload values: validating them turns a hand-edited `"severity": []`
    # into fold's StorageError instead of a crash in whatever reads the state next.
    model_config = ConfigDict(validate_assignment=True)

    id: str
    title: str = ""
    service: str | None = None
    symptom: str | None = None
    alert: str | None = None
    created_at: datetime
    started_at: datetime | None = None  # operator's `--started`, else the onset found in assess
    detected_at: datetime | None = None  # when the incident was opened in this tool
    severity: str | None = None
    severity_confirmed: bool = False
    classification: str | None = None
    status: Literal["open", "mitigated", "resolved"] = "open"
    mitigated_at: datetime | None = None
    recovered_at: datetime | None = None
    fix_deployed_at: datetime | None = None
    resolved_at: datetime | None = None
    notes: list[Note] = Field(default_factory=list)
    phases: dict[str, PhaseRecord] = Field(default_factory=dict)
    failed_phases: dict[str, str] = Field(default_factory=dict)
    commands_ran: list[CommandRecord] = Field(default_factory=list)
    comms: list[CommsRecord] = Field(default_factory=list)
    evidence_files: list[str] = Field(default_factory=list)
    postmortem_path: str | None = None
    usage: Usage = Field(default_factory=Usage)
    engine_fallbacks: list[str] = Field(default_factory=list)
    triage_finished: bool = False
    last_event_at: datetime | None = None
    event_count: int = 0

    @property
    def last_phase(self) -> str | None:
        done = [p for p in PHASE_ORDER if p in self.phases]
        return done[-1] if done else None

    def output(self, phase: str) -> dict[str, Any] | None:
        rec = self.phases.get(phase)
        return rec.output if rec else None


def _when(value: Any, default: datetime) -> datetime:
    if isinstance(value, str) and value:
        try:
            return parse_when(value)
        except Exception:
            return default
    return default


def fold(events: list[j.Event], *, source: object = "the journal") -> IncidentState:
    """Replay events into the incident's state. Unknown event types are ignored (newer writers).

    A journal whose events do not fit (no `incident.created` first, a payload of the wrong
    shape: a hand edit, another tool) is a StorageError naming `source`, not a crash."""
    if not events or events[0].type != j.INCIDENT_CREATED:
        raise StorageError(
            f"{source}: does not start with an incident.created event",
            "the incident was not opened completely, or the file was edited; restore its first line or remove the folder",
        )
    for i, ev in enumerate(events):
        try:
            if i == 0:
                st = _created(ev)
            _apply(st, ev)
        except (TypeError, ValueError, AttributeError, KeyError) as e:  # pydantic's ValidationError is a ValueError
            raise StorageError(
                f"{source}: event {i + 1} ({ev.type}) has a payload this version cannot read ({e.__class__.__name__})",
                "the journal was edited by hand or written by another tool; fix or remove that event",
            ) from None
    st.event_count = len(events)
    st.last_event_at = events[-1].at
    return st


def _created(first: j.Event) -> IncidentState:
    p = first.payload
    return IncidentState(
        id=str(p.get("id") or ""),
        title=str(p.get("title") or ""),
        service=p.get("service"),
        symptom=p.get("symptom"),
        alert=p.get("alert"),
        created_at=first.at,
        detected_at=first.at,
        started_at=_when(p.get("started_at"), first.at) if p.get("started_at") else None,
        severity=p.get("severity"),
    )


def _apply(st: IncidentState, ev: j.Event) -> None:
    p = ev.payload
    t = ev.type
    if t == j.NOTE_ADDED:
        st.notes.append(Note(at=ev.at, text=str(p.get("text", "")), author=p.get("author")))
    elif t == j.SEVERITY_SET:
        st.severity = p.get("severity", st.severity)
        st.severity_confirmed = bool(p.get("confirmed", False))
    elif t == j.PHASE_COMPLETED:
        phase = str(p.get("phase"))
        usage = Usage.model_validate(p["usage"]) if p.get("usage") else None
        st.phases[phase] = PhaseRecord(phase=phase, engine=str(p.get("engine", "")), at=ev.at, output=p.get("output") or {}, usage=usage)
        st.failed_phases.pop(phase, None)
        out = p.get("output") or {}
        if phase == "classify":
            st.classification = out.get("classification", st.classification)
            if not st.severity_confirmed:
                st.severity = out.get("severity", st.severity)
        if phase == "assess" and st.started_at is None and out.get("onset"):
            st.started_at = _when(out["onset"], ev.at)
        if phase == "verify" and out.get("recovered_at"):
            st.recovered_at = _when(out["recovered_at"], ev.at)
    elif t == j.PHASE_FAILED:
        st.failed_phases[str(p.get("phase"))] = str(p.get("error", ""))
    elif t == j.COMMAND_RAN:
        ran_at = _when(p.get("ran_at"), ev.at) if p.get("ran_at") else None
        rec = CommandRecord(
            at=ev.at, action=str(p.get("action", "")), command=p.get("command"), ran_at=ran_at,
            kind=str(p.get("kind", "other")), vetted=bool(p.get("vetted", False)),
        )
        st.commands_ran.append(rec)
        if st.mitigated_at is None:
            st.mitigated_at = rec.ran_at or rec.at
            if st.status == "open":
                st.status = "mitigated"
    elif t == j.STATUS_CHANGED:
        status = p.get("status")
        at = _when(p.get("at"), ev.at)
        if status == "mitigated":
            st.status = "mitigated"
            st.mitigated_at = st.mitigated_at or at
        elif status == "recovered":
            st.recovered_at = at
        elif status == "fix-deployed":
            st.fix_deployed_at = at
        elif status == "resolved":
            st.status = "resolved"
            st.resolved_at = at
        elif status == "reopened":
            st.status = "open"
            st.resolved_at = None
    elif t == j.COMMS_DRAFTED:
        nxt = _when(p.get("next_update_at"), ev.at) if p.get("next_update_at") else None
        st.comms.append(CommsRecord(at=ev.at, kind=str(p.get("kind", "update")), status_page=str(p.get("status_page", "")), next_update_at=nxt))
    elif t == j.EVIDENCE_SAVED:
        if p.get("path"):
            st.evidence_files.append(str(p["path"]))
    elif t == j.LLM_USAGE:
        u = Usage.model_validate(p.get("usage") or {})
        for field in ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "requests", "redactions"):
            setattr(st.usage, field, getattr(st.usage, field) + getattr(u, field))
        st.usage.cost_usd = round(st.usage.cost_usd + u.cost_usd, 6)
    elif t == j.ENGINE_FALLBACK:
        st.engine_fallbacks.append(f"{p.get('phase')}: {p.get('reason')}")
    elif t == j.POSTMORTEM_WRITTEN:
        st.postmortem_path = p.get("path")
    elif t == j.TRIAGE_FINISHED:
        st.triage_finished = True
