"""The contain phase: mitigations ranked by speed and safety, each a command to copy (or None).

A command is only ever built from a fixed template and values that pass a strict pattern, then
`shlex.quote`d: a deploy id or service name read from a file could otherwise carry `; rm -rf`
into something the operator pastes at 3 a.m. When the deploy tool is unknown the command is
None and the action says what to do; a wrong command is worse than none.
"""

from __future__ import annotations

import re
import shlex
from typing import Literal

from incident.clock import iso
from incident.engines import analysis as an
from incident.engines.facts import Facts
from incident.models import ContainOutput, Deploy, ProposedCommand, RollbackTarget

Kind = Literal["rollback", "feature-flag", "scale", "rate-limit", "restart", "hotfix", "failover", "data-fix", "other"]
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_NUMBER = re.compile(r"[0-9]{1,9}")
_KIND_ORDER_CHANGE = ("rollback", "feature-flag", "scale", "rate-limit", "restart", "failover", "hotfix", "data-fix", "other")
_KIND_ORDER_EXTERNAL = ("failover", "feature-flag", "rate-limit", "scale", "restart", "rollback", "hotfix", "data-fix", "other")
_KIND_ORDER_CAPACITY = ("scale", "rate-limit", "feature-flag", "restart", "rollback", "failover", "hotfix", "data-fix", "other")


def _q(value: str | None, pattern: re.Pattern[str]) -> str | None:
    """A value fit for a command line, or None: strict pattern first, quoting second."""
    if value is None or not pattern.fullmatch(value):
        return None
    return shlex.quote(value)


def rollback_command(source: str, service: str | None, target: RollbackTarget) -> str | None:
    """The deploy tool's own rollback for a source we know, or None."""
    name = _q(service, _NAME)
    if name is None:
        return None
    if source == "helm" and (rev := _q(target.id, _NUMBER)):
        return f"helm rollback {name} {rev}"
    if source == "argocd" and (rev := _q(target.id, _NUMBER)):
        return f"argocd app rollback {name} {rev}"
    if source == "heroku" and (rev := _q(target.id.lstrip("vV"), _NUMBER)):
        return f"heroku rollback v{rev} --app {name}"
    if source == "kubectl" and (rev := _q(target.id, _NUMBER)):
        return f"kubectl rollout undo deployment/{name} --to-revision={rev}"
    return None


def _rollback(f: Facts, suspect: an.Suspect | None, target: RollbackTarget) -> ProposedCommand:
    d: Deploy | None = suspect.deploy if suspect else None
    service = target.service or (d.service if d else None) or f.service
    source = d.source if d else next((x.source for x in f.ev.deploys if x.id == target.id), "unknown")
    what = target.version or (target.sha or "")[:12] or target.id
    command = rollback_command(source, service, target)
    undone = f"{suspect.change.id}" if suspect else "the releases after it"
    action = f"Roll {service or 'the service'} back to {target.id} ({what}, deployed {iso(target.at)}), the last successful release before {undone}"
    if command is None:
        action += f"; redeploy {what} with your deploy tool ({source} history does not say which)"
    return ProposedCommand(
        action=action, command=command, kind="rollback",
        expected_effect=f"removes the suspect change; errors should fall back to baseline within minutes of the rollout{'' if suspect is None else ' if ' + suspect.change.id + ' is the trigger'}",
        risk="also removes every other change since the target; a schema migration in the suspect release may not run backwards",
        reversibility=f"high: redeploy {suspect.change.id if suspect else 'the current release'} to undo",
        time_to_effect="2-5 minutes (one rollout)", vetted=False, destructive=False,
    )


def _generic(f: Facts, kind: Kind, files: list[str]) -> ProposedCommand | None:
    svc = f.service or "the service"
    if kind == "feature-flag":
        where = f" guarding the change to {', '.join(files[:2])}" if files else " guarding the failing path"
        return ProposedCommand(
            action=f"Turn off the feature flag{where}, if there is one", kind=kind,
            expected_effect="stops the failing code path without a deploy", risk="the feature is unavailable while off; a flag may not cover all of the change",
            reversibility="high: turn it back on", time_to_effect="seconds to a minute (flag propagation)",
        )
    if kind == "scale":
        return ProposedCommand(
            action=f"Scale {svc} out (more replicas) or up", kind=kind,
            expected_effect="absorbs load if the errors come from saturation (timeouts, exhausted pools)",
            risk="does nothing for a code defect; more instances can overload a struggling dependency",
            reversibility="high: scale back", time_to_effect="1-5 minutes",
        )
    if kind == "rate-limit":
        return ProposedCommand(
            action=f"Rate-limit or block the traffic that triggers the errors in front of {svc}", kind=kind,
            expected_effect="protects the rest of the service and its dependencies", risk="rejects some legitimate requests",
            reversibility="high: remove the limit", time_to_effect="1-2 minutes",
        )
    if kind == "restart":
        return ProposedCommand(
            action=f"Restart {svc} instances one at a time (capture logs and state first: a restart erases them)", kind=kind,
            expected_effect="clears stuck connections or bad in-memory state; does not fix a code defect",
            risk="drops in-flight requests; the evidence in memory is lost", reversibility="not needed, but what it erased is gone",
            time_to_effect="1-5 minutes", destructive=True,
        )
    if kind == "failover":
        return ProposedCommand(
            action="Fail over to the secondary provider or region for the failing dependency, or degrade gracefully without it", kind=kind,
            expected_effect="routes around the external failure", risk="the secondary may be cold or behind; failing back needs care",
            reversibility="medium: fail back once the primary is healthy", time_to_effect="minutes, if a failover path exists",
        )
    if kind == "hotfix":
        return ProposedCommand(
            action=f"Ship a targeted hotfix for {', '.join(files[:2]) or 'the failing path'}", kind=kind,
            expected_effect="fixes forward without undoing other changes", risk="a rushed change under pressure can cause the next incident",
            reversibility="medium: roll back the hotfix", time_to_effect="30 minutes or more (review, build, deploy)",
        )
    return None


def _kinds(*kinds: Kind) -> tuple[Kind, ...]:
    return kinds


def _ordered(order: tuple[str, ...], generic: list[ProposedCommand], vetted: list[ProposedCommand]) -> list[ProposedCommand]:
    """Runbook-vetted commands first within their kind; kinds in `order`."""
    out: list[ProposedCommand] = []
    for kind in order:
        out += [v for v in vetted if v.kind == kind]
        out += [g for g in generic if g.kind == kind and not any(v.kind == kind and v.command for v in vetted)]
    seen = {id(x) for x in out}
    return out + [v for v in vetted if id(v) not in seen]


def contain(f: Facts) -> ContainOutput:
    suspect, target = f.suspect, f.rollback_target
    vetted = [v for v in f.brief.vetted_commands if v.vetted]
    files = suspect.matched_files or suspect.files[:3] if suspect else []
    capacity = an.capacity_signals(f.ev)
    citations = []
    generic: list[ProposedCommand] = []
    note = ""
    if suspect is not None and target is not None:
        order = _KIND_ORDER_CHANGE
        generic.append(_rollback(f, suspect, target))
        generic += [g for k in _kinds("feature-flag", "restart", "hotfix") if (g := _generic(f, k, files))]
        citations += [f"deploy_history: rollback target {target.id}", f"deploy_history: suspect {suspect.change.id}"]
        summary = f"Roll back to {target.id} first: {suspect.change.id} correlates with the onset ({'; '.join(suspect.change.evidence[:2])})."
    elif suspect is not None:
        order = _KIND_ORDER_CHANGE
        generic += [g for k in _kinds("feature-flag", "hotfix", "restart") if (g := _generic(f, k, files))]
        note = f"{suspect.change.id} correlates with the onset but no earlier successful deploy of {suspect.change.service or 'the service'} is known to roll back to."
        summary = "No known-good release to roll back to; contain with a flag or a targeted fix."
        citations.append(f"deploy_history: suspect {suspect.change.id}")
    else:
        order = _KIND_ORDER_CAPACITY if capacity and not f.external else _KIND_ORDER_EXTERNAL
        generic += [g for k in _kinds("failover", "feature-flag", "rate-limit", "scale", "restart") if (g := _generic(f, k, []))]
        last = next((d for d in reversed(f.ev.deploys) if d.service in (None, f.service) and d.succeeded), None)
        near = ""
        if last is not None and f.onset is not None:
            near = f" (the last deploy, {last.id}, was {an.ago((f.onset - last.started_at).total_seconds() / 60)} before it)"
        cause = f"the new errors point outside the service ({f.external[0][:80]})" if f.external else "nothing in the evidence names a cause"
        note = f"Rollback is not recommended first: no change correlates with the onset{near}, and {cause}; a rollback would not remove an external cause."
        summary = "No change correlates with the onset: contain around the failing dependency, not by rolling back."
        citations += ["error_timeline", "deploy_history"] + [f"log_patterns: NEW {t[:60]}" for t in f.external[:2]]
    mitigations = _ordered(order, generic, vetted)
    rollback_first = bool(mitigations) and mitigations[0].kind == "rollback"
    if vetted:
        citations.append(f"runbook: {f.brief.runbook_id or 'matched runbook'}")
    return ContainOutput(mitigations=mitigations, rollback_first=rollback_first, note=note, summary=summary, citations=citations)
