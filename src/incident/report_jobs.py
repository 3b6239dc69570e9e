"""The jobs behind `incident postmortem | comms | status | mark`: read the journal, compute, record.

Each returns data for a renderer; nothing here prints. The CLI passes in what only it may
build (the terminal chart renderer).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from incident import journal as j
from incident.clock import parse_when, to_utc
from incident.comms import CommsDraft, StatusReport, default_kind, draft_comms, mark, record_comms, status
from incident.config import Settings
from incident.errors import EngineUnavailable, StorageError, UsageError
from incident.models import SCHEMA_VERSION, Deploy, ErrorTimeline, Usage
from incident.report import (
    Postmortem,
    build_postmortem,
    draft_narrative,
    read_evidence_json,
    render_postmortem_markdown,
)
from incident.state import IncidentState, fold

EngineChoice = Literal["offline", "claude", "auto"]
ChartFn = Callable[[ErrorTimeline, list[Any]], str | None]


class PostmortemResult(BaseModel):
    schema_version: int = SCHEMA_VERSION
    incident_id: str
    path: str
    engine: str
    todos: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    postmortem: Postmortem


def load(journal: j.Journal) -> tuple[IncidentState, list[j.Event], list[str]]:
    result = journal.read()
    return fold(result.events, source=journal.path), result.events, result.warnings


def _narrator(engine: EngineChoice, settings: Settings, journal: j.Journal) -> Callable[[str, str], str] | None:
    """The Claude `complete` callable for narrative drafting, or None for offline.

    `auto` means Claude only when a key is set and the engine is installed; `claude` asked for
    explicitly and unavailable is an error (exit 6), not a silent downgrade."""
    if engine == "offline":
        return None
    key = os.environ.get("ANTHROPIC_API_KEY", "").strip()
    if not key:
        if engine == "claude":
            raise EngineUnavailable("--engine claude needs ANTHROPIC_API_KEY", "set it, or use --engine offline")
        return None
    try:
        from incident.engines.claude import ClaudeEngine
    except ImportError as e:
        if engine == "claude":
            raise EngineUnavailable(f"the Claude engine cannot load ({e})", "use --engine offline") from None
        return None
    claude: Any = ClaudeEngine(
        model=settings.model, api_key=key, base_url=settings.base_url,
        max_steps=settings.max_steps, budget_seconds=settings.llm_budget_seconds,
    )

    def complete(system: str, prompt: str) -> str:
        from incident.redact import redact

        safe, redactions = redact(prompt)  # every byte to the model passes redaction
        text, usage = claude.complete_text(system, safe)
        u = usage if isinstance(usage, Usage) else Usage.model_validate(usage or {})
        u.redactions += redactions
        journal.append(j.LLM_USAGE, {"phase": "postmortem", "usage": u.model_dump(mode="json")})
        return str(text)

    return complete


def _target(journal: j.Journal, out: Path | None) -> Path:
    path = (out or journal.folder / "postmortem.md").expanduser()
    if path.is_dir():
        path = path / "postmortem.md"
    if not path.parent.is_dir():
        raise UsageError(f"{path.parent} is not a directory", "create it first, or pick another --out")
    return path.absolute()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _inert(text: str) -> str:
    """Escape sequences quoted from notes, logs or commits, made visible: `cat postmortem.md`
    must not clear a screen or write the clipboard (OSC 52)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _write(path: Path, text: str) -> None:
    # write-then-rename: a crash never leaves a half-written postmortem over a good one
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".postmortem-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)  # a full disk must not also collect temp files
        raise StorageError(f"{path}: cannot write ({e.strerror or e})", "pick a writable --out") from None


def write_postmortem(
    journal: j.Journal,
    settings: Settings,
    *,
    out: Path | None = None,
    template: Path | None = None,
    engine: EngineChoice = "offline",
    chart: ChartFn | None = None,
) -> PostmortemResult:
    from incident.report_text import relink

    if engine not in ("offline", "claude", "auto"):
        raise UsageError(f"unknown engine {engine!r}", "use offline, claude or auto")
    state, events, warnings = load(journal)
    path = _target(journal, out)
    pm = build_postmortem(state, events, journal.folder, slo_target=settings.slo_target)
    pm.warnings = warnings + pm.warnings
    if chart is not None and pm.chart is not None:
        pm.chart = _chart_override(chart, journal.folder) or pm.chart
    complete = _narrator(engine, settings, journal)
    if complete is not None:
        pm = draft_narrative(pm, complete)
    folder = journal.folder.absolute()
    text = render_postmortem_markdown(relink(pm, folder, path.parent) if path.parent != folder else pm, template=template)
    _write(path, _inert(text))
    shown = str(path.relative_to(folder)) if path.is_relative_to(folder) else str(path)
    journal.append(j.POSTMORTEM_WRITTEN, {
        "path": shown, "engine": pm.engine, "template": str(template) if template else None, "todos": len(pm.todos),
    })
    return PostmortemResult(incident_id=state.id, path=str(path), engine=pm.engine, todos=pm.todos, warnings=pm.warnings, postmortem=pm)


def _chart_override(chart: ChartFn, folder: Path) -> str | None:
    ignored: list[str] = []  # build_postmortem already warned about unreadable evidence
    tl = read_evidence_json(folder, "timeline.json", ErrorTimeline, ignored)
    if tl is None:
        return None
    deploys = read_evidence_json(folder, "deploys.json", list[Deploy], ignored) or []
    return chart(tl, deploys)


def comms(journal: j.Journal, settings: Settings, *, kind: str | None, now: datetime) -> CommsDraft:
    state, _, _ = load(journal)
    chosen = kind or default_kind(state)
    if chosen not in ("initial", "update", "resolved"):
        raise UsageError(f"unknown update kind {chosen!r}", "use initial, update or resolved")
    draft = draft_comms(state, chosen, cadence=settings.comms_cadence_minutes, now=now)  # type: ignore[arg-type]
    record_comms(journal, draft)
    return draft


def incident_status(journal: j.Journal, settings: Settings, *, now: datetime) -> StatusReport:
    state, _, _ = load(journal)
    return status(state, now, settings.comms_cadence_minutes)


def mark_status(journal: j.Journal, status_: str, *, at: str | None, now: datetime) -> j.Event:
    when = parse_when(at, now=to_utc(now)) if at else None
    return mark(journal, status_, at=when, now=now)
