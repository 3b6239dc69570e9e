"""The phase panels of the triage walk: one view per phase, from its output model to renderables.

Rows are Text (data cleaned, never markup); a row's leading spaces become a hanging indent.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from incident.render import clean, console, hhmm

if TYPE_CHECKING:
    from incident.engines.base import Brief
    from incident.models import ChangeRef, ProposedCommand


def _t(value: Any, style: str = "") -> Text:
    return Text(clean(str(value)), style=style)


def _pct(x: float | None) -> str:
    return "unknown" if x is None else f"{x * 100:.1f}%"


def _lines(*rows: RenderableType | str | None) -> Group:
    """One row per line; a row's leading spaces become a hanging indent, so where a long row
    wraps its continuation stays under its first word instead of under the panel's edge."""
    out: list[RenderableType] = []
    for r in rows:
        if r is None:
            continue
        text = r if isinstance(r, Text) else Text(clean(r)) if isinstance(r, str) else None
        if text is None:
            out.append(r)  # type: ignore[arg-type]  # a renderable (a grid) as it is
            continue
        lead = len(text.plain) - len(text.plain.lstrip(" "))
        out.append(_indent(text[lead:], lead) if lead and "\n" not in text.plain else text)
    return Group(*out)


def _indent(r: RenderableType, n: int) -> Padding:
    # expand=False: no trailing spaces to the terminal's edge (they would copy, and show when piped).
    return Padding(r, (0, 0, 0, n), expand=False)


def _label(label: str, value: Text | str, *, width: int = 10, style: str = "bold") -> Table:
    """'Label     value' with the value wrapping under itself."""
    grid = Table.grid()
    grid.add_column(no_wrap=True, width=width, style=style)
    grid.add_column(overflow="fold")
    grid.add_row(label, value if isinstance(value, Text) else _t(value))
    return grid


def _classify(o: Any, brief: Brief) -> Group:
    label = {"active": "Active", "degraded": "Degraded", "post-incident": "Post-incident"}[o.classification]
    rate = ""
    if o.error_ratio_now is not None:
        rate = f" — error rate {_pct(o.error_ratio_now)} now vs {_pct(o.baseline_error_ratio)} baseline"
    return _lines(
        Text(label, style="bold red" if o.classification == "active" else "bold yellow") + _t(rate),
        Text("Proposed severity ") + Text(o.severity, style="bold magenta") + _t(f" — {o.severity_reason}"),
        _t(o.summary),
    )


def _chart(brief: Brief) -> str | None:
    tl = brief.evidence.timeline
    if tl is None or not tl.buckets:
        return None
    try:
        from incident.render.logs import error_chart
    except ImportError:
        return None
    # Inside a panel (borders and padding take 4 columns) on whatever terminal this is.
    return error_chart(tl, brief.evidence.deploys, width=max(20, min(60, console().width - 4)))


def _assess(o: Any, brief: Brief) -> Group:
    rows: list[Text | str | None] = []
    chart = _chart(brief)
    if chart:
        rows.append(Text(chart, style="cyan"))
    br = o.blast_radius
    rows.append(Text("Onset ", style="bold") + _t(hhmm(o.onset, seconds=True) if o.onset else "not found in the logs"))
    blast = f"Blast radius: {_pct(br.error_ratio)} of requests failing since onset ({br.errors_since_onset} errors), trend {br.trend}"
    if br.affected:
        blast += f"; affected: {', '.join(br.affected[:6])}"
    rows.append(blast)
    if br.latency:
        rows.append(Text("Latency ", style="bold") + _t(br.latency))
    if o.changes:
        rows.append(Text("Changes before onset:", style="bold"))
        for ch in o.changes[:8]:
            is_suspect = o.suspect_change and ch.id == o.suspect_change.id and ch.kind == o.suspect_change.kind
            line = _t(_change_line(ch))
            if is_suspect:
                line.append("  ← suspect", style="bold red")
            rows.append(line)
    else:
        rows.append("No deploys or commits in the window before onset.")
    if o.suspect_change:
        for e in o.suspect_change.evidence[:5]:
            rows.append(_t(f"  evidence: {e}", "dim"))
    if o.rollback_target:
        rt = o.rollback_target
        rows.append(Text("Last known-good: ", style="bold") + _t(f"{rt.service or ''} {rt.id} ({hhmm(rt.at)}){' sha ' + rt.sha[:10] if rt.sha else ''}"))
    rows.append(_t(f"Likely trigger: {o.likely_trigger}"))
    for p in o.new_error_patterns[:3]:
        rows.append(_t(f"  new pattern x{p.count} since {hhmm(p.first_seen)}: {p.template[:110]}", "yellow"))
    if o.still_working:
        rows.append(_t(f"Still working: {', '.join(o.still_working[:8])}", "green"))
    return _lines(*rows)


def _cut(text: str, n: int) -> str:
    """At most `n` characters, cut at a word and marked, so a cut never reads as the whole."""
    if len(text) <= n:
        return text
    head = text[: n - 1]
    return (head.rsplit(" ", 1)[0] if " " in head[n // 2 :] else head) + "…"


def _change_line(ch: ChangeRef) -> str:
    """'deploy checkout 6 (1.6.1) at 14:30Z, 2 min before — Upgrade complete'."""
    rest = ch.summary
    if ch.kind == "deploy":  # the summary opens with the service and id shown already
        lead = f"{ch.service or 'deploy'} {ch.id}"
        rest = rest[len(lead) :] if rest.startswith(lead) else rest
    tags, _, desc = rest.partition(": ") if ch.kind == "deploy" else ("", "", rest)
    when = f", {ch.minutes_before_onset:.0f} min before" if ch.minutes_before_onset is not None else ""
    who = f"{ch.service} " if ch.kind == "deploy" and ch.service else ""
    line = f"  {ch.kind} {who}{ch.id}{tags.rstrip()} at {hhmm(ch.at)}{when}"
    return f"{line} — {_cut(desc.strip(), 90)}" if desc.strip() else line


def command_block(i: int, m: ProposedCommand) -> list[RenderableType]:
    """One proposed command: the `$ command` line is a Text (printed soft-wrapped, never cut);
    the rest are wrapped renderables."""
    head = _t(m.action)
    head.append("   ")
    if m.vetted:
        head.append(f"vetted · runbook {m.runbook_id}", style="green")
    else:
        head.append("unvetted", style="yellow")
    if m.destructive:
        head.append("  DESTRUCTIVE", style="bold red")
    parts: list[RenderableType] = [_label(f"{i}", head, width=3)]
    if m.command:
        parts.append(Text("   $ ", style="dim") + _t(m.command, "bold red" if m.destructive else "bold"))
    detail = f"risk: {m.risk or '?'} · reversible: {m.reversibility or '?'} · effect: {m.time_to_effect or '?'}"
    parts.append(_indent(_t(detail, "dim"), 3))
    if m.expected_effect:
        parts.append(_indent(_t(f"expected: {m.expected_effect}", "dim"), 3))
    return parts


def _contain(o: Any, brief: Brief) -> list[RenderableType]:
    parts: list[RenderableType] = []
    if o.note:
        parts.append(_indent(_t(o.note, "yellow"), 0))
    for i, m in enumerate(o.mitigations, 1):
        parts += command_block(i, m)
    parts.append(_indent(Text("Nothing is run by this tool: copy a command, run it yourself, then say so.", style="dim"), 0))
    return parts


def _diagnose(o: Any, brief: Brief) -> Group:
    return _lines(
        _label("Trigger", o.trigger),
        _label("Mechanism", o.mechanism),
        _label("Impact", o.impact),
        _label("Category", o.category),
        _t(f"Implicated: {', '.join(o.implicated_files[:6])}") if o.implicated_files else None,
        _t(f"Why not caught: {o.why_not_caught}") if o.why_not_caught else None,
        *(_t(f"  contributing: {c}", "dim") for c in o.contributing_factors[:5] if c != o.why_not_caught),
        *(_t(f"  related risk: {r}", "dim") for r in o.related_risks[:3]),
    )


def _fix(o: Any, brief: Brief) -> Group:
    removable = {True: "yes, once the fix ships", False: "no", None: "unknown"}[o.mitigation_removable_after_fix]
    return _lines(
        *(_label("•", p, width=2, style="") for p in o.plan[:8]),
        *(_t(f"  test: {t}", "cyan") for t in o.tests_to_add[:6]),
        _t(f"Mitigation removable: {removable}"),
        _t("Too risky for a hotfix: take the safe short-term path and track the full fix.", "yellow") if o.too_risky_for_hotfix else None,
    )


def _verify(o: Any, brief: Brief) -> Group:
    style = {"working": "bold green", "partially working": "bold yellow", "not working": "bold red"}.get(o.status, "bold")
    before = f"{o.errors_per_min_before:.1f}/min" if o.errors_per_min_before is not None else None
    after = f"{o.errors_per_min_after:.1f}/min" if o.errors_per_min_after is not None else None
    measured = ""
    if before or after:  # nothing measured yet says nothing, rather than "? → ?"
        measured = f" — errors {before or 'unknown'} → {after or 'not measured yet'}"
        if o.error_ratio_after is not None:
            measured += f" (ratio {_pct(o.error_ratio_before)} → {_pct(o.error_ratio_after)})"
    return _lines(
        Text(o.status.capitalize(), style=style) + _t(measured),
        _t(f"Mitigation at {hhmm(o.mitigation_at)}") if o.mitigation_at else _t("No mitigation recorded yet", "dim"),
        *(_check_line(c) for c in getattr(o, "checks", [])),
        *(_t(f"  residual: {r}", "yellow") for r in o.residual_issues[:5] if not r.startswith("runbook check ")),
        _t(o.next_step) if o.next_step else None,
    )


_CHECK_STYLE = {"pass": "green", "fail": "bold red", "pending": "yellow", "unknown": "dim"}


def _check_line(c: Any) -> RenderableType:
    """One runbook verify check: its status, the last minute against the limit, the worst after the deadline."""
    word = c.status.upper() + (" so far" if c.status == "pass" and not c.deadline_reached else "")
    line = Text("check ", style="bold") + Text(f"{word:<12}", style=_CHECK_STYLE.get(c.status, "")) + _t(c.description or f"/{c.pattern}/")
    limit = f"limit {c.max_per_minute:g}/min within {c.within_minutes} min" + (f" (by {_hm(c.deadline)})" if c.deadline else "")
    if c.status == "unknown":
        return _indent(line + _t(f" — {limit}; {c.note}", "dim"), 2)
    parts = [f"{c.last_minute_count}/min in the last minute ({_hm(c.last_minute_at)})" if c.last_minute_at else "no whole minute of logs yet", limit]
    if c.worst_minute_at is not None:
        parts.append(f"worst since the deadline {c.worst_minute_count}/min at {_hm(c.worst_minute_at)}")
    if c.under_since is not None:
        parts.append(f"under since {_hm(c.under_since)}")
    if c.before_per_min is not None:
        parts.append(f"{c.before_per_min:g}/min before")
    line += _t(" — " + "; ".join(parts))
    if c.series:
        line += _t("  " + _spark(c.series[-30:], c.max_per_minute), "cyan")
    rows: list[RenderableType] = [_indent(line, 2)]
    if c.note:
        rows.append(_indent(_t(c.note, "dim"), 6))
    return Group(*rows)


def _hm(dt: datetime | None) -> str:
    return dt.strftime("%H:%MZ") if dt else "-"


def _spark(series: list[int], limit: float) -> str:
    """The last minutes as a sparkline scaled to the larger of the limit and the peak."""
    bars = "▁▂▃▄▅▆▇█"
    top = max(max(series, default=0), limit, 1)
    return "".join(bars[min(7, int(v / top * 7))] for v in series)


def _review(o: Any, brief: Brief) -> Table:
    t = Table(show_edge=False, header_style="bold", title=clean(o.summary) if o.summary else None)
    t.add_column("pri")
    t.add_column("action item", overflow="fold")
    t.add_column("owner")
    for a in o.action_items:
        t.add_row(_t(a.priority), _t(a.description), _t(a.owner) if a.owner else Text("unassigned", style="yellow"))
    return t


_PHASE_VIEWS: dict[str, Any] = {
    "classify": _classify,
    "assess": _assess,
    "contain": _contain,
    "diagnose": _diagnose,
    "fix": _fix,
    "verify": _verify,
    "review": _review,
}
