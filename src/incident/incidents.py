"""Journal-level operations behind `new`, `list`, `show`, `note` and `timeline`: they return data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from incident import journal as j
from incident.clock import iso, parse_when
from incident.errors import UsageError
from incident.journal import Journal, Workspace
from incident.models import SCHEMA_VERSION
from incident.state import IncidentState, fold

MAX_NOTE = 10_000


def new_incident(
    ws: Workspace,
    *,
    title: str | None,
    service: str | None,
    symptom: str | None,
    started: str | None,
    severity: str | None = None,
    alert: str | None = None,
) -> Journal:
    if not (title or service or symptom):
        raise UsageError("an incident needs a title, a service or a symptom", 'e.g. incident new "checkout 500s" --service checkout')
    if severity is not None and severity.upper() not in ("SEV-1", "SEV-2", "SEV-3", "SEV-4"):
        raise UsageError(f"unknown severity {severity!r}", "use SEV-1, SEV-2, SEV-3 or SEV-4")
    now = ws.clock()
    started_at = parse_when(started, now=now) if started else None
    name = title or " ".join(x for x in (service, symptom) if x)
    payload: dict[str, Any] = {
        "service": service,
        "symptom": symptom,
        "alert": alert,
        "started_at": iso(started_at),
        "severity": severity.upper() if severity else None,
    }
    return ws.create(name, payload)


def load(journal: Journal) -> tuple[IncidentState, list[str]]:
    result = journal.read()
    return fold(result.events, source=journal.path), result.warnings


def list_incidents(ws: Workspace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for incident_id in ws.ids():
        try:
            st, _ = load(Journal(ws.root / incident_id, ws.clock))
        except Exception as e:  # one broken journal must not hide the others
            rows.append({"id": incident_id, "status": "unreadable", "title": str(getattr(e, "message", e))})
            continue
        rows.append(
            {
                "id": st.id,
                "title": st.title,
                "service": st.service,
                "status": st.status,
                "severity": st.severity,
                "opened": iso(st.created_at),
                "last_phase": st.last_phase,
                "events": st.event_count,
            }
        )
    rows.sort(key=lambda r: r.get("opened") or "", reverse=True)
    return rows


def show(journal: Journal) -> tuple[dict[str, Any], list[str]]:
    st, warnings = load(journal)
    d = st.model_dump(mode="json")
    d["phases_done"] = [p for p in st.phases]
    d["schema_version"] = SCHEMA_VERSION
    return d, warnings


def add_note(journal: Journal, text: str, *, author: str | None = None) -> j.Event:
    text = text.strip()
    if not text:
        raise UsageError("a note needs some text", 'incident note ID "support reports EU customers only"')
    if len(text) > MAX_NOTE:
        raise UsageError(f"a note is limited to {MAX_NOTE} characters", "save long material as a file and note its path")
    if not journal.path.exists():
        journal.read()  # raises NotFound with a hint
    return journal.append(j.NOTE_ADDED, {"text": text, "author": author})


def _detail(ev: j.Event) -> str:
    p = ev.payload
    t = ev.type
    if t == j.INCIDENT_CREATED:
        bits = [str(p.get("title") or "")]  # a hand-edited journal may hold any JSON here
        for k in ("service", "symptom", "started_at", "severity"):
            if p.get(k):
                bits.append(f"{k}={p[k]}")
        return " · ".join(b for b in bits if b)
    if t == j.NOTE_ADDED:
        return str(p.get("text", ""))
    if t in (j.PHASE_COMPLETED, j.PHASE_STARTED, j.PHASE_FAILED, j.PROMPT_RENDERED):
        out = p.get("output") or {}
        summary = out.get("summary") if isinstance(out, dict) else ""
        return " · ".join(str(x) for x in (p.get("phase"), p.get("engine"), summary or p.get("error") or "") if x)
    if t in (j.COMMAND_RAN, j.COMMAND_SKIPPED, j.COMMAND_PROPOSED):
        return " · ".join(str(x) for x in (p.get("action"), p.get("command")) if x)
    if t == j.SEVERITY_SET:
        return f"{p.get('severity')} ({'confirmed' if p.get('confirmed') else 'proposed'})"
    if t == j.STATUS_CHANGED:
        return str(p.get("status", ""))
    if t == j.COMMS_DRAFTED:
        return f"{p.get('kind')} · next update {p.get('next_update_at') or '-'}"
    if t == j.EVIDENCE_SAVED:
        return str(p.get("path", ""))
    if t == j.LLM_USAGE:
        u = p.get("usage") or {}
        return f"{p.get('phase')} · in {u.get('input_tokens', 0)} out {u.get('output_tokens', 0)} · ${u.get('cost_usd', 0)}"
    keys = ", ".join(f"{k}={v}" for k, v in list(p.items())[:4] if isinstance(v, (str, int, float)))
    return keys


def timeline_rows(journal: Journal, *, since: datetime | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    result = journal.read()
    rows = []
    for ev in result.events:
        if since and ev.at < since:
            continue
        rows.append({"at": iso(ev.at), "type": ev.type, "detail": _detail(ev), "payload": ev.payload})
    return rows, result.warnings
