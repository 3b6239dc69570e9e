"""Renderers for the journal commands: list, show, note, timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.table import Table
from rich.text import Text

from incident.render import clean, console, hhmm


def incident_list(rows: list[dict[str, Any]]) -> None:
    if not rows:
        console().print("no incidents yet — start one with `incident new` or `incident triage`", markup=False)
        return
    t = Table(show_edge=False, header_style="bold")
    for col in ("id", "status", "severity", "service", "opened", "last phase", "title"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(*(Text(clean(str(r.get(k) or "-"))) for k in ("id", "status", "severity", "service", "opened", "last_phase", "title")))
    console().print(t)


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
    for k, v in fields:
        if v:
            c.print(Text(f"  {k:<15}", style="dim") + Text(clean(str(v))))
    for w in warnings:
        c.print(Text("  warning: ", style="yellow") + Text(clean(w)))


def recorded(kind: str, incident_id: str, at: datetime) -> None:
    console().print(Text(f"recorded {kind} in {incident_id} at {hhmm(at, seconds=True)}", style="green"), soft_wrap=True)


def timeline(rows: list[dict[str, Any]], warnings: list[str]) -> None:
    t = Table(show_edge=False, header_style="bold")
    t.add_column("time (UTC)", no_wrap=True)
    t.add_column("event", no_wrap=True)
    t.add_column("detail", overflow="fold")
    for r in rows:
        t.add_row(Text(r["at"]), Text(r["type"], style="cyan"), Text(clean(r["detail"])))
    console().print(t)
    for w in warnings:
        console(stderr=True).print(Text("warning: ", style="yellow") + Text(clean(w)))


__all__ = ["incident_list", "incident_show", "recorded", "timeline", "hhmm"]
