"""Run the evidence gathering and the offline engine over a built scenario, as the session would."""

from __future__ import annotations

from datetime import datetime

from incident.clock import frozen_clock
from incident.engines.base import Brief
from incident.engines.offline import OfflineEngine
from incident.evidence import gather
from incident.models import Evidence, PhaseOutput
from incident.phases import PHASES, plan
from incident.scenario import ScenarioPaths
from incident.tools import default_tools
from incident.tools.base import Roots, Toolbox, ToolContext


def context(paths: ScenarioPaths, *, now: datetime | None = None) -> ToolContext:
    return ToolContext(
        roots=Roots.of(paths.root), repo=paths.repo, deploy_paths=[str(paths.deploys)],
        deploys_format=paths.deploys_format, log_paths=list(paths.logs), service=paths.service,
        clock=frozen_clock(now or paths.now),
    )


def evidence(paths: ScenarioPaths, *, now: datetime | None = None, started: datetime | None = None) -> Evidence:
    ctx = context(paths, now=now)
    return gather(ctx, service=paths.service, started=started, now=now or paths.now)


def run_all(
    paths: ScenarioPaths,
    *,
    now: datetime | None = None,
    started: datetime | None = None,
    mitigation_at: datetime | None = None,
    symptom: str | None = None,
    ctx: ToolContext | None = None,
) -> tuple[Evidence, dict[str, PhaseOutput]]:
    """Gather, then classify and every planned phase, feeding outputs forward in one Brief."""
    ctx = ctx or context(paths, now=now)
    when = now or paths.now
    ev = gather(ctx, service=paths.service, started=started, now=when)
    brief = Brief(
        incident_id="test", title=symptom or paths.symptom, service=paths.service, symptom=symptom or paths.symptom,
        now=ev.now, evidence=ev, started_at=started, mitigation_at=mitigation_at,
    )
    engine = OfflineEngine()
    toolbox = Toolbox(ctx, default_tools())
    for name in ["classify", *plan_after_classify(engine, brief, toolbox)]:
        spec = PHASES[name]
        answer = engine.run_phase(spec, brief, "", toolbox.subset(list(spec.tools)))
        assert answer.engine == "offline"
        assert isinstance(answer.output, spec.output_model)
        brief.outputs[name] = answer.output
    return ev, brief.outputs


def plan_after_classify(engine: OfflineEngine, brief: Brief, toolbox: Toolbox) -> list[str]:
    out = engine.run_phase(PHASES["classify"], brief, "", toolbox)
    return list(plan(out.output.classification))  # type: ignore[attr-defined]
