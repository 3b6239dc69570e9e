"""Verify and review, offline: did the mitigation bring the error rate back, what is left, and
which action items (P0-P3, owners left blank: assigning people is the team's decision)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from incident import verify_checks as vc
from incident.clock import iso
from incident.engines import analysis as an
from incident.engines.facts import Facts
from incident.engines.rca import MIGRATION
from incident.models import (
    ActionItem,
    ClassifyOutput,
    DiagnoseOutput,
    FixOutput,
    LatencyProfile,
    Priority,
    ReviewOutput,
    VerifyCheckResult,
    VerifyOutput,
)

SETTLE = timedelta(minutes=2)  # a rollout takes a minute or two to replace every instance


def _status(before: an.Rate, after: an.Rate, base_ratio: float | None, base_pm: float) -> str:
    if after.minutes <= 0:
        return "unknown"
    if after.ratio is not None and before.ratio is not None:
        base = base_ratio or 0.0
        if after.ratio <= max(2 * base, base + 0.005):
            return "working"
        return "partially working" if after.ratio < before.ratio * 0.5 else "not working"
    b, a = before.per_min or 0.0, after.per_min or 0.0
    if a <= max(2 * base_pm, base_pm + 0.5):
        return "working"
    return "partially working" if a < b * 0.5 else "not working"


def verify(f: Facts) -> VerifyOutput:
    ev, onset, tl = f.ev, f.onset, f.ev.timeline
    at, how = f.mitigation
    if at is None and onset is not None and tl is not None and tl.recovered_at is not None and not tl.still_elevated \
            and f.recurrence is None:
        # It ended without a recorded mitigation: compare against the moment it recovered.
        at, how = tl.recovered_at, f"no mitigation recorded; recovered on its own or by an unrecorded action at {iso(tl.recovered_at)}"
    lat = f.latency
    if at is None and lat is not None and f.onset_source == "latency" and lat.recovered_at is not None and not lat.still_elevated:
        at, how = lat.recovered_at, f"no mitigation recorded; latency recovered on its own or by an unrecorded action at {iso(lat.recovered_at)}"
    checks = _checks(f, at)
    if at is None or onset is None:
        return _cannot_verify(f, at, how, checks)
    before = an.rate(ev, onset, at)
    settled = at + SETTLE if ev.now - at >= 2 * SETTLE else at
    after = an.rate(ev, settled, None)
    base_ratio = tl.baseline_error_ratio if tl else None
    rate_status = _status(before, after, base_ratio, tl.baseline_errors_per_min if tl else 0.0)
    p95_before, p95_after, lat_status = _latency_status(lat, onset, at, settled)
    if lat_status is not None and (rate_status in ("working", "unknown") or f.onset_source == "latency"):
        # Fewer errors while requests are still slow is not "working"; and when the slowdown was
        # the incident, latency back near its baseline is what "working" means.
        rate_status = lat_status if rate_status in ("working", "unknown") else rate_status
    status = vc.combine_status(rate_status, checks)
    recovered = tl.recovered_at if tl and tl.recovered_at and tl.recovered_at >= onset else None
    if recovered is None and rate_status == "working" and tl is not None:
        recovered = next((b.at for b in tl.buckets if b.at >= at and b.errors <= max(1.0, 2 * tl.baseline_errors_per_min)), None)
    residual: list[str] = []
    impact = an.rate(ev, onset, recovered or at)
    affected, _ = an.affected_and_working(ev)
    if impact.errors:
        where = f" on {affected[0].split(' (')[0]}" if affected else ""
        residual.append(f"{impact.errors} failed requests{where} between {iso(onset)} and {iso(recovered or at)}: reconcile them (retries, orders, payments, jobs)")
    for p in an.new_patterns(ev):
        if p.last_seen is not None and p.last_seen >= settled:
            residual.append(f"still seen after the mitigation: {p.template[:120]} (last at {iso(p.last_seen)})")
    if rate_status == "partially working":
        residual.append(f"error ratio still {an.pct(after.ratio)} against a baseline of {an.pct(base_ratio)}")
    if lat_status in ("partially working", "not working") and lat is not None:
        from incident.tools.latency import human_ms

        residual.append(f"p95 latency still {human_ms(p95_after)} against a baseline of {human_ms(lat.baseline_p95_ms)}")
    if rate_status == "unknown" and after.minutes <= 0:
        residual.append("no log lines after the mitigation yet: wait a few minutes and verify again")
    residual += [f"runbook check {vc.describe(c)}" for c in checks if c.status in ("fail", "pending")]
    if f.mitigation[0] is None:
        residual.append("nobody recorded what ended it: find out (a dependency recovering, an autoscaler, a restart) before trusting it will not recur")
    diag = f.brief.outputs.get("diagnose")
    external = isinstance(diag, DiagnoseOutput) and diag.category == "external dependency failure"
    fix_needed = not (external and status == "working")
    nxt = {
        "working": "keep watching the error rate for 30 minutes; then the proper fix" + (" and root-cause analysis" if "diagnose" not in f.brief.outputs else ""),
        "partially working": "look at the residual errors; consider the next mitigation in the list",
        "not working": "escalate and apply the next mitigation; the change rolled back may not be the trigger",
        "unknown": "verify again once the logs cover a few minutes after the mitigation",
    }[status]
    if any(c.status == "fail" for c in checks):
        nxt = "a runbook verify check failed: follow the runbook's escalation; " + nxt
    if f.mitigation[0] is None:
        summary = (f"Recovered at {iso(at)} with no mitigation recorded ({status} since): {an.pct(before.ratio)} failing during the incident, "
                   f"{an.pct(after.ratio)} after" + _checks_summary(checks) + ".")
    else:
        summary = (f"Mitigation ({how}) is {status}: {an.pct(before.ratio)} failing before, {an.pct(after.ratio)} after"
                   + (f"; recovered at {iso(recovered)}" if recovered else "") + _checks_summary(checks) + ".")
    if p95_after is not None and lat is not None:
        from incident.tools.latency import human_ms

        summary = summary[:-1] + f"; p95 {human_ms(p95_before)} during, {human_ms(p95_after)} after (baseline {human_ms(lat.baseline_p95_ms)})."
    return VerifyOutput(
        mitigation_at=f.mitigation[0], errors_per_min_before=before.per_min, errors_per_min_after=after.per_min,
        error_ratio_before=before.ratio, error_ratio_after=after.ratio, status=status, recovered_at=recovered,  # type: ignore[arg-type]
        p95_ms_before=p95_before, p95_ms_after=p95_after,
        residual_issues=residual, fix_still_needed=fix_needed, next_step=nxt, summary=summary,
        citations=["error_timeline", how] + (["log_patterns"] if ev.patterns else []) + (["runbook verify checks"] if checks else []),
        checks=checks,
    )


def _latency_status(
    lat: LatencyProfile | None, onset: datetime, at: datetime, settled: datetime,
) -> tuple[float | None, float | None, str | None]:
    """Median p95 during the slowdown and after the mitigation, and what that says: back under
    BACK x baseline is working, half-way down is partial."""
    from incident.tools.latency import BACK

    if lat is None or not lat.baseline_p95_ms:
        return None, None, None
    rows = [m for m in lat.minutes if m.p95_ms is not None]
    during = sorted(m.p95_ms or 0.0 for m in rows if (lat.onset or onset) <= m.at < at)
    after = sorted(m.p95_ms or 0.0 for m in rows if m.at >= settled)
    b = during[len(during) // 2] if during else None
    a = after[len(after) // 2] if after else None
    if a is None:
        return b, None, None
    if a <= lat.baseline_p95_ms * BACK:
        return b, a, "working"
    return b, a, "partially working" if b is not None and a < b * 0.5 else "not working"


def _checks(f: Facts, at: datetime | None) -> list[VerifyCheckResult]:
    """The matched runbook's verify checks, measured on the logs as they are at `ev.now`."""
    if not f.brief.verify_checks:
        return []
    ctx = f.toolbox.ctx if f.toolbox is not None else None
    return vc.evaluate_checks(f.brief.verify_checks, ctx, mitigation_at=at, now=f.ev.now)


def _checks_summary(checks: list[VerifyCheckResult]) -> str:
    if not checks:
        return ""
    tally = Counter(c.status for c in checks)
    return "; runbook checks: " + ", ".join(f"{tally[s]} {s}" for s in ("pass", "fail", "pending", "unknown") if tally[s])


def _cannot_verify(f: Facts, at: datetime | None, how: str, checks: list[VerifyCheckResult]) -> VerifyOutput:
    """No mitigation time, or no onset to compare against: the checks may still speak."""
    tl = f.ev.timeline
    status = vc.combine_status("unknown", checks)
    if at is None:
        why = "no mitigation time is known (none recorded, no rollback deploy after the onset)"
    else:
        why = "no onset is known, so the error rates have nothing to compare against"
    residual = [f"runbook check {vc.describe(c)}" for c in checks if c.status in ("fail", "pending")]
    nxt = ("apply a mitigation, record when it ran (answer the prompt, or `incident mark ID mitigated`), then verify again"
           if at is None else "verify again once the logs cover a few minutes after the mitigation")
    head = f"Cannot verify yet: {why}" if status == "unknown" else f"Mitigation ({how}) is {status} by the runbook's checks; {why}"
    return VerifyOutput(
        mitigation_at=at, status=status, residual_issues=residual, fix_still_needed=True,  # type: ignore[arg-type]
        next_step=nxt, summary=head + _checks_summary(checks) + ".",
        citations=(["error_timeline"] if tl else []) + (["runbook verify checks"] if checks else []), checks=checks,
    )


def review(f: Facts) -> ReviewOutput:
    out = f.brief.outputs
    classify = out.get("classify")
    diag = out.get("diagnose")
    fixo = out.get("fix")
    ver = out.get("verify")
    items: list[ActionItem] = []

    def add(text: str, p: Priority, cat: str) -> None:
        items.append(ActionItem(description=text, priority=p, category=cat))

    category = diag.category if isinstance(diag, DiagnoseOutput) else "unknown"
    still_hurting = not (isinstance(ver, VerifyOutput) and ver.status == "working")
    if isinstance(fixo, FixOutput) and fixo.plan and category != "unknown":
        add(f"{fixo.plan[0]} (not yet shipped)", "P0" if still_hurting else "P1", "code fix")
    elif category == "unknown":
        add("Establish the root cause: the evidence did not show it", "P0" if still_hurting else "P1", "investigation")
    if isinstance(fixo, FixOutput) and fixo.tests_to_add:
        add(f"Add {fixo.tests_to_add[0]}", "P1", "test coverage")
    if isinstance(ver, VerifyOutput):
        for r in ver.residual_issues:
            if "failed requests" in r:
                add(r[0].upper() + r[1:], "P1", "data reconciliation")
    service = f.service or "the service"
    add(f"Alert on {service}'s error ratio (for example over 1% or twice the baseline for 5 minutes) and route it to on-call", "P2", "monitoring")
    if (lat := f.latency) is not None:
        from incident.tools.latency import human_ms

        first = f.latency_first
        early = (f"; latency rose {first:.0f} min before the errors, the earlier page" if first
                 else "; errors alone did not show this incident" if f.onset_source == "latency" else "")
        add(f"Alert on {service}'s p95 latency (for example over 3x its {human_ms(lat.baseline_p95_ms)} baseline for 5 minutes)"
            + early, "P1" if f.onset_source == "latency" or first else "P2", "monitoring")
    if f.suspect is not None and f.suspect.flip == "flag":
        add("Roll flags out in stages (1%, 10%, 50%, 100%) with an automatic halt when the error rate rises", "P2", "process")
    elif f.suspect is not None and f.suspect.change.kind == "deploy":
        add(f"Gate {service} releases on a canary or an error-rate check so a bad release halts itself", "P2", "process")
    for text, p, cat in _cause_items(f, category):
        add(text, p, cat)
    if f.brief.runbook_id:
        add(f"Update runbook {f.brief.runbook_id} with what this incident taught (signals, the rollback that worked)", "P2", "runbook")
    else:
        add(f"Write a runbook for {service}: how to roll back, vetted commands, how to verify", "P2", "runbook")
    if isinstance(diag, DiagnoseOutput):
        for risk in diag.related_risks[:2]:
            add(f"Check related risk: {risk}", "P3", "related risk")
    went_well, could_improve = _lessons(f, classify, ver, diag)
    factors = list(diag.contributing_factors) if isinstance(diag, DiagnoseOutput) else []
    summary = f"{len(items)} action items ({', '.join(sorted({i.priority for i in items}))}); owners left blank for the team to assign."
    return ReviewOutput(
        action_items=items, went_well=went_well, could_improve=could_improve, contributing_factors=factors,
        summary=summary, citations=[name for name in ("classify", "assess", "contain", "diagnose", "fix", "verify") if name in out],
    )


def _cause_items(f: Facts, category: str) -> list[tuple[str, Priority, str]]:
    """Action items the failure family calls for, beyond the generic ones."""
    svc, s = f.service or "the service", f.suspect
    items: list[tuple[str, Priority, str]] = []
    watch = {
        "db": "database connection pool usage and wait time, and the database's connection count",
        "memory": f"memory growth and out-of-memory restarts of {svc}'s instances",
        "disk": f"free disk space on {svc}'s volumes (for example under 20% and under 10%)",
        "tls": f"the certificate expiry of every endpoint {svc} calls (30, 14 and 7 days ahead)",
        "dns": f"DNS resolution failures from {svc} and the resolver's health",
    }
    if f.cause in watch:
        items.append((f"Alert on {watch[f.cause or '']} before it turns into errors", "P1", "monitoring"))
    if f.cause in ("traffic", "overload"):
        items.append((f"Autoscale {svc} on request rate or queue depth, and alert when traffic nears its capacity", "P1", "capacity"))
    if f.collapsed or f.cause == "startup":
        items.append((f"Alert on {svc}'s restart count and on its log volume dropping; make rollouts wait for readiness so a release "
                      "that cannot start halts itself", "P1", "monitoring"))
    if s is not None and any(MIGRATION.search(x) for x in s.files):
        items.append(("Require reversible (expand/contract) migrations and test the previous release against the migrated schema "
                      "before deploying", "P1", "process"))
    if f.rise_start is not None:
        items.append(("Alert on a sustained rise of the error ratio over hours (burn rate), not only on a sudden step", "P2", "monitoring"))
    if f.mitigation[0] is None and isinstance(f.brief.outputs.get("classify"), ClassifyOutput) \
            and f.brief.outputs["classify"].classification == "post-incident":  # type: ignore[attr-defined]
        items.append(("Find out what ended the incident (no mitigation was recorded) and whether it can recur", "P1", "investigation"))
    return items


def _lessons(f: Facts, classify: object, ver: object, diag: object) -> tuple[list[str], list[str]]:
    well: list[str] = []
    improve: list[str] = []
    tl = f.ev.timeline
    if tl is not None and tl.onset is not None:
        well.append(f"the logs dated the onset to the minute ({iso(tl.onset)})")
    if f.rollback_target is not None:
        well.append(f"a known-good release ({f.rollback_target.id}) was identified for the rollback")
    if isinstance(ver, VerifyOutput) and ver.status == "working" and ver.mitigation_at and f.onset:
        minutes = round((ver.mitigation_at - f.onset).total_seconds() / 60)
        well.append(f"the mitigation worked, {minutes} min after the onset")
    elif isinstance(ver, VerifyOutput) and ver.status in ("not working", "partially working"):
        improve.append(f"the first mitigation was {ver.status}")
    if isinstance(classify, ClassifyOutput) and classify.classification != "post-incident" and f.onset is not None:
        gap = round((f.brief.now - f.onset).total_seconds() / 60)
        if gap >= 5:
            improve.append(f"errors had run {gap} min when this triage started: detection could be faster")
    if isinstance(diag, DiagnoseOutput) and diag.why_not_caught:
        improve.append(diag.why_not_caught)
    if not f.ev.deploys:
        improve.append("no deploy history was available to the triage")
    return well, improve
