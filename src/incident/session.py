"""The triage session: runs the phases in order, asks the operator, and is the journal's writer.

The session decides nothing about the incident itself (engines do) and prints nothing (the UI
does): it owns the order of phases, the operator's decisions and what is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from incident import journal as j
from incident.clock import Clock, iso, to_utc
from incident.config import Settings
from incident.engines.base import Brief, Engine, EngineFailed, PhaseAnswer
from incident.journal import Journal
from incident.models import SCHEMA_VERSION, ContainOutput, Evidence, PhaseOutput, ProposedCommand, SourceNote
from incident.phases import PHASES, PhaseSpec, plan
from incident.session_files import save_evidence, save_suspect_diff, write_file
from incident.state import IncidentState, fold
from incident.tools.base import Roots, Toolbox, ToolContext, spec_dir


class TriageRequest(BaseModel):
    service: str | None = None
    symptom: str | None = None
    title: str | None = None
    alert: str | None = None
    started: datetime | None = None
    repo: Path | None = None
    deploys: list[Path] = Field(default_factory=list)
    deploys_format: str | None = None
    logs: list[str] = Field(default_factory=list)
    runbook_paths: list[Path] = Field(default_factory=list)
    engine: Literal["auto", "offline", "claude", "scripted"] = "auto"
    scripted_dir: Path | None = None
    now: datetime | None = None
    roots: list[Path] = Field(default_factory=list)
    model: str | None = None
    severity: str | None = None  # pre-confirmed severity (skips the question)
    # Added later; every one defaults so that requests journaled before them still load.
    # A deploy source's own format, keyed by str(path) of its entry in `deploys`/`runbook_deploys`;
    # a source without one is read as `deploys_format` (None: detected per file).
    deploy_formats: dict[str, str] = Field(default_factory=dict)
    # Sources a matched runbook named because flags and config named none. They are read only
    # inside the roots the rest of the request allows: `read_roots` never sees them.
    runbook_deploys: list[Path] = Field(default_factory=list)
    runbook_logs: list[str] = Field(default_factory=list)
    sources_runbook: str | None = None  # the runbook they came from
    source_notes: list[SourceNote] = Field(default_factory=list)  # sources refused before the triage began


class UI(Protocol):
    """What the session tells the operator and asks them. `None` UI = silent, non-interactive."""

    interactive: bool

    def header(self, info: dict[str, Any]) -> None: ...
    def progress(self, label: str, done: int, total: int) -> None: ...
    def phase_started(self, spec: PhaseSpec, engine: str) -> None: ...
    def stream_text(self, text: str) -> None: ...
    def phase_done(self, spec: PhaseSpec, answer: PhaseAnswer, brief: Brief) -> None: ...
    def notice(self, text: str) -> None: ...
    def confirm_severity(self, proposed: str, reason: str) -> str: ...
    def ask_ran(self, index: int, cmd: ProposedCommand) -> Literal["yes", "no", "stop"]: ...


class _SilentUI:
    interactive = False

    def header(self, info: dict[str, Any]) -> None: ...
    def progress(self, label: str, done: int, total: int) -> None: ...
    def phase_started(self, spec: PhaseSpec, engine: str) -> None: ...
    def stream_text(self, text: str) -> None: ...
    def phase_done(self, spec: PhaseSpec, answer: PhaseAnswer, brief: Brief) -> None: ...
    def notice(self, text: str) -> None: ...

    def confirm_severity(self, proposed: str, reason: str) -> str:
        return proposed

    def ask_ran(self, index: int, cmd: ProposedCommand) -> Literal["yes", "no", "stop"]:
        return "no"


@dataclass
class TriageResult:
    incident_id: str
    folder: Path
    state: IncidentState
    runbook: dict[str, Any] | None = None
    notices: list[str] = field(default_factory=list)
    finished_at: datetime | None = None  # the session clock when the walk ended

    def contract(self) -> dict[str, Any]:
        """The JSON contract of `incident triage --json` (pinned by a contract test)."""
        st = self.state
        # A post-incident triage skips assess; its diagnose carries the same facts.
        assess = st.output("assess") or st.output("diagnose") or {}
        contain = st.output("contain") or {}
        suspect = assess.get("suspect_change")
        rollback = assess.get("rollback_target")
        return {
            "schema_version": SCHEMA_VERSION,
            "incident_id": st.id,
            "classification": st.classification,
            "severity": st.severity,
            "onset": assess.get("onset") or (iso(st.started_at) if st.started_at else None),
            "suspect_change": (
                {k: suspect.get(k) for k in ("id", "sha", "service", "at", "summary", "evidence")} if suspect else None
            ),
            "rollback_target": {k: rollback.get(k) for k in ("id", "sha", "at")} if rollback else None,
            "new_error_patterns": [
                {k: p.get(k) for k in ("template", "count", "first_seen")} for p in assess.get("new_error_patterns") or []
            ],
            "mitigations": [
                {k: m.get(k) for k in ("action", "command", "risk", "reversibility", "time_to_effect", "vetted", "destructive")}
                for m in contain.get("mitigations") or []
            ],
            "phases": [
                {"phase": name, "engine": rec.engine, "output": rec.output} for name, rec in st.phases.items()
            ],
            "runbook": self.runbook,
            "notices": self.notices,
        }


class Session:
    def __init__(
        self,
        *,
        journal: Journal,
        request: TriageRequest,
        settings: Settings,
        clock: Clock,
        engine: Engine,
        ui: UI | None = None,
    ):
        self.journal = journal
        self.req = request
        self.settings = settings
        self.clock = clock
        self.engine = engine
        self.ui: UI = ui or _SilentUI()
        self.notices: list[str] = []
        self.runbook_info: dict[str, Any] | None = None
        self._offline: Engine | None = None

    # ------------------------------------------------------------------ setup

    def tool_context(self) -> ToolContext:
        return ToolContext(
            roots=Roots.of(*read_roots(self.req)),
            repo=self.req.repo,
            deploy_paths=[str(p) for p in (*self.req.deploys, *self.req.runbook_deploys)],
            deploys_format=self.req.deploys_format,
            deploy_formats=dict(self.req.deploy_formats),
            log_paths=[*self.req.logs, *self.req.runbook_logs],
            service=self.req.service,
            clock=self.clock,
        )

    def offline(self) -> Engine:
        if self._offline is None:
            from incident.engines.offline import OfflineEngine

            self._offline = OfflineEngine()
        return self._offline

    def _match_runbook(self, state: IncidentState) -> tuple[Any, str]:
        from incident import runbooks

        paths = self.req.runbook_paths or [self.settings.resolve(p) for p in self.settings.runbooks]
        found, problems = runbooks.load_runbooks([p for p in paths if p.exists()])
        for p in problems:
            if p.severity == "error":
                self.notice(f"runbook {p.file}:{p.line}: {p.message}")
        matches = runbooks.match_runbooks(found, service=state.service, alert=state.alert, symptom=state.symptom, title=state.title)
        if not matches:
            return None, ""
        best = matches[0]
        self.runbook_info = {"id": best.runbook.id, "reasons": list(best.reasons)}
        return best.runbook, runbooks.runbook_brief(best.runbook, list(best.reasons))

    def notice(self, text: str) -> None:
        self.notices.append(text)
        self.ui.notice(text)

    # ------------------------------------------------------------------ the walk

    def run(self) -> TriageResult:
        from incident import evidence as evidence_mod

        state = self._state()
        ctx = self.tool_context()
        toolbox = Toolbox(ctx, _tools())
        runbook, runbook_summary = self._match_runbook(state)
        self.ui.header(self._header(state, ctx, runbook))
        ev = evidence_mod.gather(
            ctx, service=state.service, started=state.started_at, now=to_utc(self.clock()),
            progress=lambda label, done, total: self.ui.progress(label, done, total),
        )
        if self.req.sources_runbook:
            named = [*self.req.runbook_logs, *map(str, self.req.runbook_deploys)]
            self.notice(f"no sources given or configured; reading what runbook {self.req.sources_runbook} names: {', '.join(named) or 'nothing inside the read roots'}")
        for note in [*self.req.source_notes, *ev.sources]:
            if note.refused or note.reason:  # refused by policy, or could not be read
                self.notice(f"not read: {note.path}: {note.reason}" + (f" — {note.hint}" if note.hint else ""))
        if not state.triage_finished and "classify" not in state.phases:
            save_evidence(self.journal, ev)
        brief = self._brief(state, ev, runbook, runbook_summary)

        self._phase("classify", brief, toolbox, state)
        classification = brief.outputs["classify"].classification  # type: ignore[attr-defined]
        self._confirm_severity(brief, state)
        # Coming back to an incident with a mitigation recorded (`--resume` after `incident mark ID
        # mitigated`, or later to see whether it worked) is a request to verify again on the logs
        # as they are now: an earlier verify saw fewer minutes after the mitigation, or none.
        if brief.mitigation_at is not None and "verify" in brief.outputs:
            for stale in ("verify", "review"):
                brief.outputs.pop(stale, None)
        for name in plan(classification):
            if name == "contain" and runbook is not None:
                self._render_vetted(brief, runbook)
            if name == "verify" and brief.mitigation_at is not None:
                brief.evidence = evidence_mod.gather(ctx, service=state.service, started=state.started_at, now=to_utc(self.clock()))
                brief.now = brief.evidence.now
            self._phase(name, brief, toolbox, state)
            if name == "contain":
                self._ask_mitigations(brief)
            if name == "assess":
                save_suspect_diff(self.journal, brief, ctx, self.notice)
        self.journal.append(j.TRIAGE_FINISHED, {"notices": self.notices})
        final = fold(self.journal.events(), source=self.journal.path)
        return TriageResult(self.journal.id, self.journal.folder, final, self.runbook_info, self.notices, to_utc(self.clock()))

    def _state(self) -> IncidentState:
        return fold(self.journal.events(), source=self.journal.path)

    def _header(self, state: IncidentState, ctx: ToolContext, runbook: Any) -> dict[str, Any]:
        return {
            "incident_id": state.id,
            "title": state.title,
            "service": state.service,
            "engine": self.engine.name,
            "model": self.settings.model if self.engine.name == "claude" else None,
            "repo": str(ctx.repo) if ctx.repo else None,
            "deploys": ctx.deploy_paths,
            "deploys_format": ctx.deploys_format,
            "logs": ctx.log_paths,
            "log_files": _log_summary(ctx),
            "runbook": self.runbook_info,
            "folder": str(self.journal.folder),
            "phases_done": list(state.phases),
        }

    def _brief(self, state: IncidentState, ev: Evidence, runbook: Any, runbook_summary: str) -> Brief:
        brief = Brief(
            incident_id=state.id, title=state.title, service=state.service, symptom=state.symptom,
            now=ev.now, evidence=ev, started_at=self.req.started, alert=state.alert,
            notes=[n.text for n in state.notes], runbook_id=runbook.id if runbook else None,
            runbook_summary=runbook_summary, verify_checks=list(runbook.verify) if runbook else [],
        )
        # Resume: phases already recorded feed forward as they were.
        for name, rec in state.phases.items():
            brief.outputs[name] = PHASES[name].output_model.model_validate(rec.output)
        if state.mitigated_at is not None:
            brief.mitigation_at = state.mitigated_at
            brief.mitigation_action = state.commands_ran[0].action if state.commands_ran else "mitigation recorded by the operator"
        return brief

    def _phase(self, name: str, brief: Brief, toolbox: Toolbox, state: IncidentState) -> None:
        spec = PHASES[name]
        if name in brief.outputs:
            return  # done in an earlier run (resume)
        from incident.redact import redact

        computed = self.offline().run_phase(spec, brief, "", toolbox)
        prompt_text, redactions = redact(self._render_prompt(spec, brief, computed.output))
        prompt_path = self.journal.folder / "prompts" / f"{name}.md"
        write_file(prompt_path, prompt_text)
        self.journal.append(j.PROMPT_RENDERED, {"phase": name, "path": str(prompt_path.relative_to(self.journal.folder)), "chars": len(prompt_text), "redactions": redactions})
        self.ui.phase_started(spec, self.engine.name)
        self.journal.append(j.PHASE_STARTED, {"phase": name, "engine": self.engine.name})
        answer = computed if self.engine.name == "offline" else self._answer(spec, brief, prompt_text, toolbox, computed)
        output = self._post_process(spec, answer.output, brief)
        answer.output = output
        brief.outputs[name] = output
        payload: dict[str, Any] = {"phase": name, "engine": answer.engine, "output": output.model_dump(mode="json")}
        if answer.usage is not None:
            payload["usage"] = answer.usage.model_dump(mode="json")
            self.journal.append(j.LLM_USAGE, {"phase": name, "usage": payload["usage"]})
        if answer.transcript:
            payload["tool_calls"] = answer.transcript[:50]
        self.journal.append(j.PHASE_COMPLETED, payload)
        self.ui.phase_done(spec, answer, brief)

    def _render_prompt(self, spec: PhaseSpec, brief: Brief, computed: PhaseOutput) -> str:
        from incident import prompts
        from incident.digest import prompt_context

        override = self.settings.resolve(self.settings.prompts_dir) if self.settings.prompts_dir else None
        return prompts.render(spec.template, prompt_context(spec, brief, computed), override_dir=override)

    def _answer(self, spec: PhaseSpec, brief: Brief, prompt: str, toolbox: Toolbox, computed: PhaseAnswer) -> PhaseAnswer:
        """A model's answer with the analysers' facts written over it; the analysers' own answer
        when the model cannot be reached (the triage goes on either way)."""
        from incident.engines.merge import merge

        # Engines get the whole read-only toolbox and keep to the phase's tools themselves: the
        # Claude engine declares them all so every phase shares one cached prefix.
        try:
            answer = self.engine.run_phase(spec, brief, prompt, toolbox)
        except EngineFailed as e:
            self.notice(f"{self.engine.name} engine unavailable for {spec.name} ({e.reason}); the offline engine answered")
            self.journal.append(j.ENGINE_FALLBACK, {"phase": spec.name, "reason": e.reason, "engine": self.engine.name})
            return computed
        answer.output = merge(answer.output, computed.output, brief.evidence.deploys)
        return answer

    def _post_process(self, spec: PhaseSpec, output: PhaseOutput, brief: Brief) -> PhaseOutput:
        if isinstance(output, ContainOutput):
            from incident.actions import label_commands

            # Whatever the engine said, only exact runbook-rendered commands are vetted.
            output = output.model_copy(update={"mitigations": label_commands(output.mitigations, brief.vetted_commands)})
        return output

    def _render_vetted(self, brief: Brief, runbook: Any) -> None:
        from incident.actions import render_runbook_commands

        assess = brief.outputs.get("assess")
        rollback = getattr(assess, "rollback_target", None)
        suspect = getattr(assess, "suspect_change", None)
        by_id = {d.id: d for d in brief.evidence.deploys}
        values: dict[str, Any] = {
            "service": brief.service,
            "environment": next((d.environment for d in reversed(brief.evidence.deploys) if d.environment), None),
            "incident": {"id": brief.incident_id},
            "rollback": {"revision": rollback.id, "sha": rollback.sha, "version": rollback.version} if rollback else None,
            "suspect": (
                {"revision": suspect.id, "sha": suspect.sha, "version": getattr(by_id.get(suspect.id), "version", None)}
                if suspect
                else None
            ),
            "vars": dict(getattr(runbook, "vars", {}) or {}),
        }
        commands, problems = render_runbook_commands(runbook, values)
        brief.vetted_commands = commands
        for p in problems:
            self.notice(p if p.startswith("runbook ") else f"runbook {runbook.id}: {p}")

    def _confirm_severity(self, brief: Brief, state: IncidentState) -> None:
        if state.severity_confirmed:
            return
        out = brief.outputs["classify"]
        proposed = self.req.severity or out.severity  # type: ignore[attr-defined]
        chosen = proposed if self.req.severity else self.ui.confirm_severity(proposed, out.severity_reason)  # type: ignore[attr-defined]
        self.journal.append(j.SEVERITY_SET, {"severity": chosen, "confirmed": self.ui.interactive or bool(self.req.severity), "proposed": proposed})

    def _ask_mitigations(self, brief: Brief) -> None:
        if not self.ui.interactive or brief.mitigation_at is not None:
            return
        contain = brief.outputs["contain"]
        for i, cmd in enumerate(contain.mitigations, 1):  # type: ignore[attr-defined]
            if not cmd.command:
                continue
            answer = self.ui.ask_ran(i, cmd)
            if answer == "stop":
                break
            if answer == "yes":
                ev = self.journal.append(
                    j.COMMAND_RAN,
                    {"index": i, "action": cmd.action, "command": cmd.command, "kind": cmd.kind, "vetted": cmd.vetted},
                )
                brief.mitigation_at = ev.at
                brief.mitigation_action = cmd.action
                break
            self.journal.append(j.COMMAND_SKIPPED, {"index": i, "action": cmd.action, "command": cmd.command})


def _log_summary(ctx: ToolContext) -> dict[str, int]:
    """How much the triage will read (files, bytes), cheap enough for the header."""
    from incident.tools.logscan import expand_paths

    paths, _ = expand_paths(ctx.log_paths, ctx.roots)
    size = 0
    for p in paths:
        try:
            size += p.stat().st_size
        except OSError:
            continue
    return {"files": len(paths), "bytes": size}


def _tools() -> list[Any]:
    from incident.tools import default_tools

    return default_tools()


def read_roots(req: TriageRequest) -> list[Path]:
    """The directories tools may read: what the operator named (repo, deploy files, log paths'
    directories) and configured roots. A model can never add one."""
    roots: list[Path] = list(req.roots)
    if req.repo:
        roots.append(req.repo)
    roots.extend(p.parent for p in req.deploys)
    roots.extend(Path(spec_dir(spec)) for spec in req.logs if spec != "-")
    return roots
