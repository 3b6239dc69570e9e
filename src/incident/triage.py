"""Starting a triage: flags and config to a TriageRequest, the engine, the lock, the session;
and the prompts a triage stored.

Everything the tools may read is decided here, from flags and config, never by a model.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Literal

from incident import journal as j
from incident.clock import Clock, iso, parse_when, to_utc
from incident.config import Settings
from incident.engines.base import Engine
from incident.errors import NotFound, UsageError
from incident.journal import Journal, Workspace
from incident.locks import TriageLock
from incident.phases import PHASES
from incident.request_sources import choose_deploys, runbook_sources
from incident.runtime import Runtime
from incident.session import UI, Session, TriageRequest, TriageResult


def _is_repo(path: Path) -> bool:
    return (path / ".git").exists()


def build_request(rt: Runtime, **flags: Any) -> TriageRequest:
    s = rt.settings
    svc = s.service(flags.get("service"))
    now = to_utc(rt.clock())
    repo: Path | None = flags.get("repo")
    if repo is None and svc and svc.repo:
        repo = s.resolve(svc.repo)
    if repo is None:
        guess = s.base_dir()
        repo = guess if _is_repo(guess) else None
    chosen = choose_deploys(s, svc, repo.resolve() if repo else None, list(flags.get("deploys") or []), flags.get("deploys_format"))
    logs: list[str] = list(flags.get("logs") or [])
    if not logs and svc:
        logs = [str(s.resolve(g)) for g in svc.logs]
    started = flags.get("started")
    engine: Literal["auto", "offline", "claude", "scripted"] = flags.get("engine") or "auto"
    if engine not in ("auto", "offline", "claude", "scripted"):
        raise UsageError(f"unknown engine {engine!r}", "use auto, offline, claude or scripted")
    severity = flags.get("severity")
    if severity and severity.upper() not in ("SEV-1", "SEV-2", "SEV-3", "SEV-4"):
        raise UsageError(f"unknown severity {severity!r}", "use SEV-1, SEV-2, SEV-3 or SEV-4")
    req = TriageRequest(
        service=flags.get("service") or (svc.name if svc else None),
        symptom=flags.get("symptom"),
        title=flags.get("title"),
        alert=flags.get("alert"),
        started=parse_when(started, now=now) if started else None,
        repo=repo.resolve() if repo else None,
        deploys=chosen.paths,
        deploys_format=chosen.common,
        deploy_formats=chosen.formats,
        logs=[lg if lg == "-" else str(Path(lg).expanduser().absolute()) for lg in logs],
        runbook_paths=[p.resolve() for p in flags.get("runbooks") or []],
        engine=engine,
        scripted_dir=flags.get("scripted"),
        now=now,
        roots=[*(s.resolve(r) for r in s.roots), *(Path(r).resolve() for r in flags.get("roots") or [])],
        model=flags.get("model"),
        severity=severity.upper() if severity else None,
    )
    return req.model_copy(update=runbook_sources(s, req))


def example_request(rt: Runtime, flags: dict[str, Any]) -> tuple[TriageRequest, Runtime]:
    """The bundled example: a small git repo, a helm deploy history and logs with a bad deploy,
    built in a temp dir. The clock is pinned to the example's "now" unless --now was given."""
    from incident.clock import fixed_clock
    from incident.resources import data_dir
    from incident.scenario import build_example

    root = Path(tempfile.mkdtemp(prefix="incident-example-"))
    ex = build_example(root)
    clock = rt.clock if flags.get("now_given") else fixed_clock(ex.now)
    rt = Runtime(settings=rt.settings, clock=clock, json=rt.json, pinned=True)
    req = TriageRequest(
        service=ex.service,
        symptom=ex.symptom,
        repo=ex.repo,
        deploys=[ex.deploys],
        deploys_format=ex.deploys_format,
        logs=list(ex.logs),
        runbook_paths=list(flags.get("runbooks") or []) or [data_dir("runbooks")],
        engine=flags.get("engine") or "auto",
        now=to_utc(clock()),
        severity=flags.get("severity"),
    )
    return req, rt


def run(rt: Runtime, *, example: bool, resume: str | None, take_over: bool, ui: UI | None, **flags: Any) -> TriageResult:
    flags["now_given"] = rt.pinned
    if example and resume:
        raise UsageError("--example and --resume do not go together")
    if example:
        req, rt = example_request(rt, flags)
    elif resume:
        req = TriageRequest.model_validate({k: flags[k] for k in ("engine", "model") if flags.get(k) and flags[k] != "auto"})
    else:
        req = build_request(rt, **flags)
        if not (req.logs or req.deploys or req.repo or req.runbook_logs or req.runbook_deploys):
            raise UsageError(
                "nothing to read: no logs, deploy history or repo given or configured",
                "pass --logs/--deploys/--repo, run `incident init` to write .incident.yaml, or try `incident triage --example`",
            )
    return run_triage(req, settings=rt.settings, workspace=rt.workspace, clock=rt.clock, ui=ui, resume=resume, take_over=take_over, on_text=getattr(ui, "stream_text", None))


def stored_prompt(journal: Journal, phase: str) -> str:
    if phase not in PHASES:
        raise UsageError(f"unknown phase {phase!r}", f"one of: {', '.join(PHASES)}")
    path = journal.folder / "prompts" / f"{phase}.md"
    if not path.is_file():
        raise NotFound(f"{journal.id} has no rendered {phase} prompt", "phases run by `incident triage` keep their prompts; see `incident show`")
    return path.read_text(encoding="utf-8")


def choose_engine(req: TriageRequest, settings: Settings, *, on_text: Any = None) -> Engine:
    name = req.engine if req.engine != "auto" else settings.engine
    key = os.environ.get("ANTHROPIC_API_KEY", "").strip()
    if name == "auto":
        name = "claude" if key else "offline"
    if name == "offline":
        from incident.engines.offline import OfflineEngine

        return OfflineEngine()
    if name == "scripted":
        if req.scripted_dir is None:
            raise UsageError("--engine scripted needs recorded answers", "pass --scripted DIR with <phase>.json files")
        from incident.engines.scripted import ScriptedEngine

        return ScriptedEngine(req.scripted_dir)
    from incident.engines.claude import ClaudeEngine

    return ClaudeEngine(
        model=req.model or settings.model, api_key=key, base_url=settings.base_url,
        max_steps=settings.max_steps, budget_seconds=settings.llm_budget_seconds, on_text=on_text,
    )


def incident_title(service: str | None, symptom: str | None) -> str:
    if service and symptom:
        return symptom if service.lower() in symptom.lower() else f"{service}: {symptom}"
    return symptom or service or "incident"


def start(req: TriageRequest, ws: Workspace) -> Journal:
    """Open a new incident for a triage and record what it will read (so --resume can rebuild it)."""
    title = req.title or incident_title(req.service, req.symptom)
    request = req.model_dump(mode="json", exclude={"now"})
    # The request rides on the first event too: a crash between the two appends must still
    # leave a journal that `--resume` can continue.
    journal = ws.create(
        title,
        {"service": req.service, "symptom": req.symptom, "alert": req.alert, "started_at": iso(req.started), "severity": None,
         "triage_request": request},
    )
    journal.append(j.TRIAGE_STARTED, {"request": request})
    return journal


def request_for_resume(journal: Journal) -> TriageRequest:
    events = journal.events()
    for ev in events:
        if ev.type == j.TRIAGE_STARTED:
            return TriageRequest.model_validate(ev.payload.get("request") or {})
    if events and isinstance(events[0].payload.get("triage_request"), dict):
        return TriageRequest.model_validate(events[0].payload["triage_request"])
    raise UsageError(f"{journal.id} was not opened by `incident triage`", "start one with `incident triage`")


def run_triage(
    req: TriageRequest,
    *,
    settings: Settings,
    workspace: Workspace,
    clock: Clock,
    ui: UI | None = None,
    resume: str | None = None,
    take_over: bool = False,
    on_text: Any = None,
) -> TriageResult:
    """Run (or resume) a triage. `ui=None` is silent and non-interactive."""
    if resume:
        journal = workspace.open(resume)
        saved = request_for_resume(journal)
        req = saved.model_copy(update={k: v for k, v in req.model_dump(exclude_unset=True).items() if k in ("engine", "model")})
    else:
        journal = start(req, workspace)
    engine = choose_engine(req, settings, on_text=on_text)
    with TriageLock(journal.folder, clock=clock, take_over=take_over):
        session = Session(journal=journal, request=req, settings=settings, clock=clock, engine=engine, ui=ui)
        return session.run()
