"""Renderers for `incident runbook check | list | dry-run` and `incident init`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from rich.text import Text

from incident.render import clean, console

if TYPE_CHECKING:
    from incident.runbook_check import CheckReport


def check_text(report: CheckReport) -> None:
    c = console()
    for p in report.problems:
        style = "red" if p.severity == "error" else "yellow"
        # One finding per line, never wrapped: editors and grep read `file:line:col:`.
        c.print(
            Text(clean(p.where()) + ": ", style="bold") + Text(p.severity, style=style) + Text(f" [{p.code}] " + clean(p.message)),
            soft_wrap=True,
        )
    for s in report.skipped:
        c.print(Text("note: " + clean(s), style="dim"))
    files = len(report.files)
    verdict = Text("ok", style="green") if report.ok else Text("failed", style="bold red")
    c.print(
        Text(f"{files} file(s), {len(report.runbooks)} runbook(s): {report.errors} error(s), {report.warnings} warning(s) — ")
        + verdict
    )


def lines(text_lines: list[str]) -> None:
    # Machine formats (GitHub annotations) go out byte for byte: no Rich wrapping.
    for line in text_lines:
        sys.stdout.write(line + "\n")
    sys.stdout.flush()


def runbook_list(rows: list[dict[str, Any]], problems: list[str], *, matching: bool) -> None:
    c = console()
    if not rows:
        c.print("no runbook matches" if matching else "no runbooks found", markup=False)
    for r in rows:
        if matching:
            c.print(Text(f"{r['score']:>4}  ") + Text(clean(r["id"]), style="bold") + Text("  " + clean("; ".join(r["reasons"]))), soft_wrap=True)
            continue
        c.print(
            Text(clean(r["id"]), style="bold") + Text("  " + clean(r["title"])) + Text(f"  (owner {clean(r['owner'])}, reviewed {r['reviewed_at']})", style="dim"),
            soft_wrap=True,
        )
        c.print(Text("    match: " + clean(_rules(r["match"]))), soft_wrap=True)
        c.print(Text("    mitigations: " + (", ".join(r["mitigations"]) or "none") + "  · " + clean(_short(r["file"])), style="dim"), soft_wrap=True)
    for p in problems:
        console(stderr=True).print(Text("warning: ", style="yellow") + Text(clean(p)), soft_wrap=True)


def _short(path: str) -> str:
    from pathlib import Path

    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return path


def _rules(match: dict[str, Any]) -> str:
    parts = []
    for key in ("services", "alerts", "keywords"):
        if match.get(key):
            parts.append(f"{key}: {', '.join(match[key])}")
    if match.get("symptom_regex"):
        parts.append(f"regex: /{match['symptom_regex']}/")
    return "; ".join(parts) or "(none)"


def dry_run(report: Any) -> None:
    c = console()
    c.print(Text(f"dry-run {clean(report.runbook)} against {clean(report.scenario)} (engine {report.engine})", style="bold"))
    for e in report.expectations:
        mark = Text("PASS ", style="green") if e.passed else Text("FAIL ", style="bold red")
        detail = f"expected {e.expected}, got {e.actual}"
        note = Text("  (" + clean(e.note) + ")", style="dim") if e.note else Text("")
        c.print(mark + Text(f"{e.name:<16}") + Text(clean(detail)) + note, soft_wrap=True)
    for chk in getattr(report, "verify_checks", []) or []:
        c.print(_check_row(chk), soft_wrap=True)
    for n in report.notices:
        c.print(Text("note: " + clean(n), style="dim"), soft_wrap=True)
    passed = sum(e.passed for e in report.expectations)
    verdict = Text("passed", style="green") if report.passed else Text("failed", style="bold red")
    c.print(Text(f"{passed}/{len(report.expectations)} expectations met — ") + verdict + Text(" (nothing was executed)", style="dim"))


_CHECK_STYLE = {"pass": "green", "fail": "bold red", "pending": "yellow", "unknown": "dim"}


def _check_row(chk: dict[str, Any]) -> Text:
    """A runbook verify check as the dry-run's triage measured it (asserted or not)."""
    status = str(chk.get("status"))
    name = chk.get("description") or f"/{chk.get('pattern')}/"
    row = Text("check ", style="dim") + Text(f"{status:<8} ", style=_CHECK_STYLE.get(status, "")) + Text(clean(str(name)))
    if chk.get("last_minute_at"):
        row += Text(clean(f"  last minute {chk.get('last_minute_count')}/min, limit {chk.get('max_per_minute'):g}/min"), style="dim")
    if chk.get("note"):
        row += Text("  (" + clean(str(chk["note"])) + ")", style="dim")
    return row


def init_result(rows: list[dict[str, str]], root: str) -> None:
    c = console()
    for r in rows:
        style = {"created": "green", "overwritten": "yellow", "skipped": "dim"}.get(r["status"], "")
        note = Text("  " + clean(r["note"]), style="dim") if r.get("note") else Text("")
        c.print(Text(f"{r['status']:<12}", style=style) + Text(clean(r["path"])) + note, soft_wrap=True)
    c.print(Text(f"next: edit .incident.yaml and runbooks/ in {clean(root)}, then run `incident runbook check runbooks/`", style="bold"), soft_wrap=True)
