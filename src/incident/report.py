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
    VerifyCheckResult,
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
    verify_checks: list[VerifyCheckResult] = Field(default_factory=list)  # the runbook's checks, as the verify phase measured them
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
    href: str = ""  # the link from the written file; set by `report_text.relink`, else `path`


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
        return read_evidence_json(self.folder, name, model, self.warnings)

    def status_events(self, status: str) -> list[datetime]:
        out = []
        for ev in self.events:
            if ev.type == j.STATUS_CHANGED and ev.payload.get("status") == status:
                out.append(_when(ev.payload.get("at"), ev.at))
        return out


def read_evidence_json(folder: Path, name: str, model: Any, warnings: list[str]) -> Any:
    """A saved evidence file (`evidence/<name>`) validated as `model`, or None with a warning.

    The file may be edited, truncated or huge by the time a report is written."""
    from pydantic import TypeAdapter

    path = folder / "evidence" / name
    try:
        if not path.is_file() or path.stat().st_size > MAX_EVIDENCE_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        warnings.append(f"evidence/{name}: unreadable ({e.__class__.__name__}); left out")
        return None
    try:
        return TypeAdapter(model).validate_python(data)
    except ValidationError:
        warnings.append(f"evidence/{name}: not in the expected shape; left out")
        return None


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


def _change_text(kind: str, ident: str, service: str | None, summary: str) -> str:
    # "the deploy of rev 27": the change, never the person who shipped it
    what = f"the {kind} of {ident}" + (f" to {service}" if service else "")
    return f"{what} ({summary})" if summary else what


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
    from incident.report_timeline import build_timeline, compute_key_times, time_of

    f = _Facts(state, events, folder)
    key_times = compute_key_times(f)
    started, recovered = time_of(key_times, "started"), time_of(key_times, "recovered")
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
        timeline=build_timeline(f, key_times),
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
