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
from incident.engines.rca import MIGRATION
from incident.models import ContainOutput, Deploy, ProposedCommand, RollbackTarget

Kind = Literal["rollback", "feature-flag", "scale", "rate-limit", "restart", "hotfix", "failover", "data-fix", "other"]
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_NUMBER = re.compile(r"[0-9]{1,9}")
_KIND_ORDER_CHANGE = ("rollback", "feature-flag", "scale", "rate-limit", "restart", "failover", "hotfix", "data-fix", "other")
_KIND_ORDER_EXTERNAL = ("failover", "feature-flag", "rate-limit", "scale", "restart", "rollback", "hotfix", "data-fix", "other")
_KIND_ORDER_CAPACITY = ("scale", "rate-limit", "feature-flag", "restart", "rollback", "failover", "hotfix", "data-fix", "other")
_KIND_ORDER_FLIP = ("feature-flag", "rollback", "hotfix", "restart", "scale", "rate-limit", "failover", "data-fix", "other")
# Per failure family when no change correlates: what stops the bleeding first.
_KIND_ORDER_BY_CAUSE: dict[str, tuple[str, ...]] = {
    "traffic": ("scale", "rate-limit", "feature-flag", "restart", "other"),
    "overload": ("scale", "rate-limit", "feature-flag", "restart", "other"),
    # More app replicas open more connections to a database that has none left.
    "db": ("rate-limit", "other", "feature-flag", "scale", "restart"),
    "disk": ("scale", "other", "restart"),
    "memory": ("restart", "scale", "rate-limit", "other"),
    "tls": ("failover", "feature-flag", "other"),
    "dns": ("failover", "other", "feature-flag"),
}
_IRREVERSIBLE = re.compile(
    r"drop_column|drop_table|DROP\s+(?:TABLE|COLUMN)|RENAME\s+(?:COLUMN|TO)|new_column_name|RemoveField|DeleteModel|"
    r"RenameField|RenameModel|remove_column|rename_column|IrreversibleMigration|NotImplementedError|irreversible", re.I)
_NO_DOWN = re.compile(r"def downgrade\([^)]*\)[^\n]*:\s*\n[+ ]\s*(?:pass|raise)\b|def down\b", re.I)


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
    risk, reversibility = "also removes every other change since the target", f"high: redeploy {suspect.change.id if suspect else 'the current release'} to undo"
    migration = _migration_risk(f, suspect, target)
    if migration:
        risk, reversibility = f"{risk}; {migration}", "low for the schema: a code rollback leaves the migration applied"
        action += "; first check that it runs against the migrated schema"
    elif suspect is not None and suspect.files:
        risk += "; no schema migration in the suspect release"
    return ProposedCommand(
        action=action, command=command, kind="rollback",
        expected_effect=f"removes the suspect change; errors should fall back to baseline within minutes of the rollout{'' if suspect is None else ' if ' + suspect.change.id + ' is the trigger'}",
        risk=risk, reversibility=reversibility, time_to_effect="2-5 minutes (one rollout)", vetted=False, destructive=False,
    )


def _migration_risk(f: Facts, suspect: an.Suspect | None, target: RollbackTarget) -> str:
    """What a rollback cannot undo: a schema migration the suspect release carries."""
    files = [x for x in (suspect.files if suspect else []) if MIGRATION.search(x)]
    if not files:
        return ""
    diff = f.diff
    signs = sorted({m.group(0) for m in _IRREVERSIBLE.finditer(diff)}) + (["no working downgrade"] if _NO_DOWN.search(diff) else [])
    name = files[0].rsplit("/", 1)[-1]
    how = f"it is not reversible ({', '.join(signs[:4])})" if signs else "a rollback of the code does not run it backwards"
    return (f"the release includes schema migration {name}; {how}: rolling back the code leaves the schema migrated, "
            f"and {target.id} may fail against it too")


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


def _flip_back(f: Facts, suspect: an.Suspect) -> ProposedCommand:
    what = suspect.change.summary.split(": ", 1)[-1]
    if suspect.flip == "flag":
        return ProposedCommand(
            action=f"Turn the flag back as it was before {suspect.change.id} ({what})", kind="feature-flag",
            expected_effect="switches the failing path off again within the flag's propagation time; no deploy",
            risk="the feature is unavailable while off; clients that cached the flag keep it until they refresh",
            reversibility="high: turn it on again", time_to_effect="seconds to a minute (flag propagation)",
        )
    return ProposedCommand(
        action=f"Revert the configuration change {suspect.change.id} ({what}) with the tool that made it", kind="feature-flag",
        expected_effect="restores the configuration that worked; a redeploy of an older release would not",
        risk="other settings changed with it are reverted too; instances may need a reload to read it",
        reversibility="high: apply the change again", time_to_effect="1-5 minutes (config propagation and reload)",
    )


def _specific(f: Facts, cause: str) -> list[ProposedCommand]:
    """Mitigations that only make sense for one failure family."""
    svc = f.service or "the service"
    if cause == "db":
        return [
            ProposedCommand(
                action=f"Shed load on the database: rate-limit {svc}'s heaviest endpoints, pause batch jobs and cron work that hold connections",
                kind="rate-limit", expected_effect="frees connections so the requests that matter get one",
                risk="rejected requests and delayed jobs", reversibility="high: lift the limit, resume the jobs", time_to_effect="1-2 minutes"),
            ProposedCommand(
                action="With the DBA, find the sessions holding connections or locks longest (pg_stat_activity / SHOW PROCESSLIST) and cancel them, cancel before kill",
                kind="other", expected_effect="releases the locks and connections a stuck query holds",
                risk="cancelled work is lost and may be retried; ending the wrong session can do harm", reversibility="none for the cancelled work",
                time_to_effect="minutes", destructive=True),
            ProposedCommand(
                action=f"Scale the database (more CPU/IOPS, a read replica for reads), not {svc}: more app replicas would open more connections",
                kind="scale", expected_effect="more capacity for the queries that pile up", risk="a resize may fail over or restart the database",
                reversibility="medium: scale back later", time_to_effect="minutes to an hour, depending on the provider"),
        ]
    if cause == "disk":
        return [
            ProposedCommand(
                action=f"Grow the full volume of {svc} (or attach more disk)", kind="scale",
                expected_effect="writes succeed again as soon as there is space", risk="a resize can need a restart on some platforms",
                reversibility="low: volumes rarely shrink, but the extra space does no harm", time_to_effect="minutes"),
            ProposedCommand(
                action="Free space on the full volume: find what fills it (du -xh --max-depth=2), then compress or move rotated logs and temp files",
                kind="other", expected_effect="immediate room for writes", risk="deleting the wrong files loses data or evidence: move before you delete",
                reversibility="low for what is deleted", time_to_effect="minutes", destructive=True),
        ]
    if cause == "memory":
        return [
            ProposedCommand(
                action=f"Rolling restart of {svc} (capture a heap dump from one instance first)", kind="restart",
                expected_effect="resets the heap: buys the time between two out-of-memory kills, fixes nothing",
                risk="drops in-flight requests; the leak refills the heap at the same pace", reversibility="not needed",
                time_to_effect="1-5 minutes", destructive=True),
            ProposedCommand(
                action=f"Raise {svc}'s memory limit (and heap size) or add replicas so each takes less load", kind="scale",
                expected_effect="stretches the time between kills", risk="a leak fills any limit eventually",
                reversibility="high: lower it again", time_to_effect="1-5 minutes (one rollout)"),
        ]
    if cause in ("traffic", "overload"):
        ratio = f" ({f.volume.ratio:.1f}x the usual traffic)" if f.volume else ""
        return [
            ProposedCommand(
                action=f"Scale {svc} out{ratio}: more replicas, and raise the autoscaler's maximum", kind="scale",
                expected_effect="absorbs the extra traffic", risk="more replicas put more load on the database and dependencies behind it",
                reversibility="high: scale back in", time_to_effect="1-5 minutes"),
            ProposedCommand(
                action=f"Rate-limit or block the sources of the extra traffic in front of {svc} (top clients, paths, user agents), shed non-critical requests",
                kind="rate-limit", expected_effect="keeps capacity for legitimate users", risk="rejects some legitimate requests",
                reversibility="high: remove the limit", time_to_effect="1-2 minutes"),
        ]
    if cause == "tls":
        return [ProposedCommand(
            action="Get the certificate renewed: the provider's (open a ticket, check their status page) or, if it is one you manage "
                   "(client certificate, pinned CA bundle), renew and roll it out; do not switch off certificate verification",
            kind="other", expected_effect="ends the failures once the new certificate is served",
            risk="turning verification off instead would expose payment traffic to interception", reversibility="not needed",
            time_to_effect="minutes to hours, depending on who holds the certificate")]
    if cause == "dns":
        return [ProposedCommand(
            action="Check the resolver (CoreDNS/kube-dns pods and logs, /etc/resolv.conf) and the dependency's DNS record; "
                   "restore the record or point clients at a working endpoint",
            kind="other", expected_effect="names resolve again", risk="a wrong record or endpoint sends traffic to the wrong place",
            reversibility="high: restore the previous record", time_to_effect="minutes, plus DNS cache TTLs")]
    return []


def contain(f: Facts) -> ContainOutput:
    suspect, target = f.suspect, f.rollback_target
    vetted = [v for v in f.brief.vetted_commands if v.vetted]
    files = suspect.matched_files or suspect.files[:3] if suspect else []
    cause = f.cause
    citations = []
    generic: list[ProposedCommand] = []
    note = ""
    order: tuple[str, ...]
    if suspect is not None and suspect.flip:
        order = _KIND_ORDER_FLIP
        generic.append(_flip_back(f, suspect))
        enabled = next((d for d in f.ev.deploys if suspect.enabled and d.id == suspect.enabled.id), None)
        back = an.rollback_target_for(f.ev.deploys, enabled) if enabled else None
        if suspect.enabled is not None and back is not None:
            generic.append(_rollback(f, an.Suspect(suspect.enabled, enabled, 0.0, [], [], []), an.target_ref(back)))
        generic += [g for k in _kinds("hotfix") if (g := _generic(f, k, files))]
        note = (f"{suspect.change.id} shipped no code, it switched a {suspect.flip} on: turn it back first; "
                "redeploying an older release would not undo it.")
        summary = f"Turn back {suspect.change.id} first: it correlates with the onset ({'; '.join(suspect.change.evidence[:2])})."
        citations.append(f"deploy_history: suspect {suspect.change.id}")
    elif suspect is not None and target is not None:
        order = _KIND_ORDER_CHANGE
        generic.append(_rollback(f, suspect, target))
        generic += _specific(f, "memory")[:1] if cause == "memory" else []
        generic += [g for k in _kinds("feature-flag", "restart", "hotfix") if (g := _generic(f, k, files)) and all(x.kind != k for x in generic)]
        citations += [f"deploy_history: rollback target {target.id}", f"deploy_history: suspect {suspect.change.id}"]
        summary = f"Roll back to {target.id} first: {suspect.change.id} correlates with the onset ({'; '.join(suspect.change.evidence[:2])})."
    elif suspect is not None:
        order = _KIND_ORDER_CHANGE
        generic += [g for k in _kinds("feature-flag", "hotfix", "restart") if (g := _generic(f, k, files))]
        note = f"{suspect.change.id} correlates with the onset but no earlier successful deploy of {suspect.change.service or 'the service'} is known to roll back to."
        summary = "No known-good release to roll back to; contain with a flag or a targeted fix."
        citations.append(f"deploy_history: suspect {suspect.change.id}")
    else:
        order, generic, note, summary = _no_change(f, cause)
        citations += ["error_timeline", "deploy_history"] + [f"log_patterns: NEW {t[:60]}" for t in f.external[:2]]
    mitigations = _ordered(order, generic, vetted)
    rollback_first = bool(mitigations) and mitigations[0].kind == "rollback"
    if vetted:
        citations.append(f"runbook: {f.brief.runbook_id or 'matched runbook'}")
    return ContainOutput(mitigations=mitigations, rollback_first=rollback_first, note=note, summary=summary, citations=citations)


def _slow_only(f: Facts) -> bool:
    """Requests slowed and errors did not rise: the slowdown is the whole incident."""
    tl = f.ev.timeline
    return f.latency is not None and (tl is None or tl.onset is None)


def _no_change(f: Facts, cause: str | None) -> tuple[tuple[str, ...], list[ProposedCommand], str, str]:
    """No change correlates: contain around the cause the errors show, never by rolling back first."""
    specific = _specific(f, cause) if cause else []
    if cause in _KIND_ORDER_BY_CAUSE:
        order = _KIND_ORDER_BY_CAUSE[cause] + tuple(k for k in _KIND_ORDER_EXTERNAL if k not in _KIND_ORDER_BY_CAUSE[cause])
    elif (an.capacity_signals(f.ev) or _slow_only(f)) and not f.external:
        # A slowdown with no change and no failing dependency in sight: more capacity (or less
        # load) is the fastest safe lever; a failover would move the same load elsewhere.
        order = _KIND_ORDER_CAPACITY
    else:
        order = _KIND_ORDER_EXTERNAL
    kinds = {m.kind for m in specific}
    # A failover or a flag is no answer to a full disk or a spike; the generic ones fill in the rest.
    useless = {"disk": {"failover", "feature-flag", "rate-limit"}, "traffic": {"failover"}, "overload": {"failover"},
               "db": {"failover"}, "memory": {"failover"}, "tls": {"scale", "rate-limit", "restart"},
               "dns": {"scale", "rate-limit"}}.get(cause or "", set())
    generic = specific + [g for k in _kinds("failover", "feature-flag", "rate-limit", "scale", "restart")
                          if k not in kinds and k not in useless and (g := _generic(f, k, []))]
    last = next((d for d in reversed(f.ev.deploys) if d.service in (None, f.service) and d.succeeded), None)
    near = ""
    if last is not None and f.onset is not None:
        near = f" (the last deploy, {last.id}, was {an.ago((f.onset - last.started_at).total_seconds() / 60)} before it)"
    what = {
        "traffic": "the errors come from more traffic than the service can take",
        "overload": "the errors come from the service running out of workers",
        "db": "the errors show the database running out of connections or time",
        "disk": "the errors show a full disk",
        "memory": "the errors show memory running out",
    }
    if cause in what:
        cause_text = f"{what[cause]} ({f.signal.example[:80] if f.signal else ''}); a rollback would not add capacity"
    elif f.external:
        cause_text = f"the new errors point outside the service ({f.external[0][:80]}); a rollback would not remove an external cause"
    elif _slow_only(f) and f.latency is not None:
        from incident.engines.signals import latency_line

        cause_text = f"requests slowed ({latency_line(f.latency)}) with no failing dependency in the evidence; a rollback would not add capacity"
    else:
        cause_text = "nothing in the evidence names a cause; a rollback would not remove an external cause"
    note = f"Rollback is not recommended first: no change correlates with the onset{near}, and {cause_text}."
    first = _ordered(order, generic, [])[:1]
    summary = (f"No change correlates with the onset: {first[0].action[0].lower() + first[0].action[1:]}." if first
               else "No change correlates with the onset: contain around the cause, not by rolling back.")
    return order, generic, note, summary
