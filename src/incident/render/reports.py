"""Renderers for `incident postmortem | comms | status | mark`.

The postmortem itself goes to a file; the terminal gets a short summary. Comms drafts are
printed between plain rules (no side borders) so they copy cleanly into a status page or mail.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich import box
from rich.panel import Panel
from rich.text import Text

from incident.render import clean, console, hhmm

if TYPE_CHECKING:
    from incident.comms import CommsDraft, StatusReport
    from incident.journal import Event
    from incident.models import Deploy, ErrorTimeline
    from incident.report_jobs import PostmortemResult

MAX_TODOS_SHOWN = 8


def _t(value: Any, style: str = "") -> Text:
    return Text(clean(str(value)), style=style)


def chart_text(timeline: ErrorTimeline, deploys: list[Deploy]) -> str | None:
    """The error-rate chart the log commands draw, as plain text for a Markdown code block.

    None when that renderer is not available or fails; the postmortem then keeps its own chart."""
    try:
        from incident.render.logs import error_chart  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    try:
        chart = error_chart(timeline, deploys)
    except Exception:  # a chart is decoration: the postmortem's own text chart stands in
        return None
    if isinstance(chart, str):
        return chart
    from rich.console import Console

    buf = io.StringIO()
    Console(file=buf, width=80, color_system=None, highlight=False, emoji=False).print(chart)
    text = "\n".join(line.rstrip() for line in buf.getvalue().splitlines()).strip("\n")
    return text or None


def postmortem_written(result: PostmortemResult) -> None:
    c = console()
    c.print(f"wrote {clean(result.path)}", markup=False, highlight=False)
    pm = result.postmortem
    line = Text("  narrative ", style="dim") + _t(result.engine)
    if pm.impact_minutes is not None:
        line += Text("   user impact ", style="dim") + _t(f"{pm.impact_minutes:g} min")
    line += Text("   timeline ", style="dim") + _t(f"{len(pm.timeline)} events")
    c.print(line)
    unassigned = sum(1 for a in pm.action_items if a.unassigned)
    if pm.action_items:
        c.print(Text("  action items ", style="dim") + _t(f"{len(pm.action_items)} ({unassigned} unassigned — the team decides)"))
    if result.todos:
        c.print(Text(f"  {len(result.todos)} TODO(s) to fill in:", style="yellow"))
        for todo in result.todos[:MAX_TODOS_SHOWN]:
            c.print(_t(f"    - {todo.removeprefix('TODO: ')}"))
        if len(result.todos) > MAX_TODOS_SHOWN:
            c.print(_t(f"    … and {len(result.todos) - MAX_TODOS_SHOWN} more in the file", "dim"))
    err = console(stderr=True)
    for w in result.warnings:
        err.print(Text("warning: ", style="yellow") + _t(w))


def _when(dt: datetime | None) -> str:
    return hhmm(dt)


def comms_draft(d: CommsDraft) -> None:
    c = console()
    c.print(Panel(_t(d.status_page), title=f"status page ({d.kind})", title_align="left", box=box.HORIZONTALS, padding=(0, 0)))
    body = _t(f"Subject: {d.email_subject}\n\n{d.email}")
    c.print(Panel(body, title="stakeholder update", title_align="left", box=box.HORIZONTALS, padding=(0, 0)))
    if d.next_update_at:
        c.print(Text("next update due ", style="dim") + _t(_when(d.next_update_at), "bold")
                + Text(f"  (every {d.cadence_minutes} min at {d.severity or 'unknown severity'}); recorded in the journal", style="dim"))
    else:
        c.print(Text("final update; recorded in the journal", style="dim"))


def status_report(r: StatusReport) -> None:
    c = console()
    c.print(_t(r.incident_id, "bold") + Text("  ") + _t(r.title))
    sev = f"{r.severity or 'not set'}" + ("" if r.severity_confirmed or not r.severity else " (proposed)")
    rows = [
        ("status", r.status), ("severity", sev), ("classification", r.classification),
        ("started", _when(r.started_at) if r.started_at else None), ("mitigated", _when(r.mitigated_at) if r.mitigated_at else None),
        ("recovered", _when(r.recovered_at) if r.recovered_at else None), ("resolved", _when(r.resolved_at) if r.resolved_at else None),
        ("user impact", f"{r.impact_minutes:g} min" + ("" if r.recovered_at else " so far") if r.impact_minutes is not None else None),
        ("phases done", ", ".join(r.phases_done) or "-"),
        ("updates sent", f"{r.updates_sent}" + (f", last {r.last_update_kind} at {_when(r.last_update_at)}" if r.last_update_at else "")),
    ]
    for k, v in rows:
        if v:
            c.print(Text(f"  {k:<15}", style="dim") + _t(v))
    if r.next_update_due is None:
        c.print(Text(f"  {'next update':<15}", style="dim") + _t("none due"))
    elif r.overdue_minutes > 0:
        c.print(Text(f"  {'next update':<15}", style="dim")
                + _t(f"{r.next_update_kind} OVERDUE by {r.overdue_minutes:g} min (was due {_when(r.next_update_due)})", "bold red"))
    else:
        c.print(Text(f"  {'next update':<15}", style="dim")
                + _t(f"{r.next_update_kind} due {_when(r.next_update_due)} (in {r.due_in_minutes:g} min)"))
    c.print(Text("  ") + _t(r.next_step, "cyan"))


def marked(incident_id: str, ev: Event) -> None:
    at = ev.payload.get("at") or ""
    console().print(Text(f"recorded {clean(str(ev.payload.get('status')))} at {clean(str(at))} in {clean(incident_id)}", style="green"))


__all__ = ["chart_text", "postmortem_written", "comms_draft", "status_report", "marked"]
