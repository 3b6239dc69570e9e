"""Renderers for the journal commands: list, show, note, timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text

from incident.render import clean, console, hhmm


def incident_list(rows: list[dict[str, Any]]) -> None:
    from incident.render.tables import Col, cell, fitted, when_cell

    c = console()
    if not rows:
        c.print("no incidents yet — start one with `incident new` or `incident triage`", markup=False)
        return
    # The id is what the operator copies into the next command: never cut, never dropped.
    cols = [
        Col("id", [cell(r.get("id"), "cyan") for r in rows]),
        Col("status", [cell(r.get("status")) for r in rows], keep=6),
        Col("severity", [cell(r.get("severity")) for r in rows], keep=5),
        Col("service", [cell(r.get("service")) for r in rows], keep=2, max_width=16),
        Col("opened (UTC)", [when_cell(r.get("opened")) for r in rows], keep=3),
        Col("last phase", [cell(r.get("last_phase")) for r in rows], keep=1),
        Col("title", [cell(r.get("title")) for r in rows], wrap=True, min_width=16, keep=4),
    ]
    c.print(fitted(cols, c.width))


def incident_show(state: dict[str, Any], warnings: list[str]) -> None:
    c = console()
    c.print(Text(clean(state["id"]), style="bold") + Text("  " + clean(state.get("title") or "")))
    fields = [
        ("status", state.get("status")),
        ("severity", state.get("severity")),
        ("classification", state.get("classification")),
        ("service", state.get("service")),
        ("symptom", state.get("symptom")),
        ("started", state.get("started_at")),
        ("opened", state.get("created_at")),
        ("mitigated", state.get("mitigated_at")),
        ("recovered", state.get("recovered_at")),
        ("resolved", state.get("resolved_at")),
        ("phases done", ", ".join(state.get("phases_done") or []) or "-"),
        ("notes", str(len(state.get("notes") or []))),
        ("events", str(state.get("event_count"))),
    ]
    from incident.render.tables import when_cell

    times = {"started", "opened", "mitigated", "recovered", "resolved"}
    for k, v in fields:
        if v:
            c.print(Text(f"  {k:<15}", style="dim") + (when_cell(v) if k in times else Text(clean(str(v)))))
    for w in warnings:
        c.print(Text("  warning: ", style="yellow") + Text(clean(w)))


def recorded(kind: str, incident_id: str, at: datetime) -> None:
    console().print(Text(f"recorded {kind} in {incident_id} at {hhmm(at, seconds=True)}", style="green"), soft_wrap=True)


def timeline(rows: list[dict[str, Any]], warnings: list[str]) -> None:
    from incident.render.tables import Col, cell, fitted, when_cell

    c = console()
    if not rows:
        c.print("no events in this window", markup=False)
    else:
        # To the second: the journal's milliseconds order events, the rows are already in order.
        cols = [
            Col("time (UTC)", [when_cell(r["at"], seconds=True) for r in rows]),
            Col("event", [cell(r["type"], "cyan") for r in rows]),
            Col("detail", [cell(r["detail"]) for r in rows], wrap=True, min_width=20),
        ]
        c.print(fitted(cols, c.width))
    for w in warnings:
        console(stderr=True).print(Text("warning: ", style="yellow") + Text(clean(w)))


__all__ = ["incident_list", "incident_show", "recorded", "timeline", "hhmm"]
