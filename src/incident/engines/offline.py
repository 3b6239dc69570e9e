"""The offline engine: every phase's answer computed from the evidence, without any LLM.

It is the default when no API key is set or the API is down (the LLM provider may be down in
the same outage), and the ground truth the Claude engine is checked against. Deterministic:
the same brief always gives the same answer. It ignores the rendered prompt.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from incident.clock import iso
from incident.engines import analysis as an
from incident.engines import signals as sig
from incident.engines.base import Brief, PhaseAnswer
from incident.engines.facts import DiffCache, Facts
from incident.models import (
    AssessOutput,
    BlastRadius,
    Classification,
    ClassifyOutput,
    LatencyProfile,
    PatternRef,
    PhaseOutput,
    Severity,
)
from incident.phases import PhaseSpec, start_phase
from incident.tools.base import Toolbox

_SEV1_WORDS = re.compile(r"data loss|lost data|corrupt|total outage|complete(?:ly)? down|everything (?:is )?down|site (?:is )?down|all users|security breach", re.I)
_SEV2_WORDS = re.compile(r"\bdown\b|outage|unavailable|cannot|can't|unable to|payments? fail|checkout fail|major|broken", re.I)
_SEV3_WORDS = re.compile(r"slow|latency|degraded|intermittent|errors?\b|\b5\d\d\b|timeouts?|fail", re.I)
_RECOVERED_WORDS = re.compile(r"recovered|resolved|rolled back|after (?:a |the )?(?:restart|rollback)|mitigated|back to normal|post.?incident", re.I)
_PARTIAL_WORDS = re.compile(r"slow|latency|intermittent|some users|subset|partial|one region|degraded|background job", re.I)
ACTIVE_RATIO = 0.05  # at or above this share of failing requests, users are plainly affected now


class OfflineEngine:
    name = "offline"

    def __init__(self) -> None:
        self._cache = DiffCache()

    def run_phase(self, spec: PhaseSpec, brief: Brief, prompt: str, toolbox: Toolbox) -> PhaseAnswer:
        facts = Facts(brief, toolbox, self._cache)
        output = _handlers()[spec.name](facts)
        # The model class is the phase's contract; validating here catches a drift early.
        output = spec.output_model.model_validate(output.model_dump())
        return PhaseAnswer(output=output, engine=self.name, transcript=list(facts.calls))


def _handlers() -> dict[str, Callable[[Facts], PhaseOutput]]:
    from incident.engines import followup, mitigations, rca

    return {
        "classify": classify,
        "assess": assess,
        "contain": mitigations.contain,
        "diagnose": rca.diagnose,
        "fix": rca.fix,
        "verify": followup.verify,
        "review": followup.review,
    }


# ---------------------------------------------------------------- classify


def severity(f: Facts, ratio: float | None) -> tuple[Severity, str]:
    """SEV-1..4 from the failing share and the symptom; when unsure, the higher one."""
    text = f.symptom
    affected, _ = an.affected_and_working(f.ev)
    feature_down = [e.name for e in f.ev.endpoints_after if e.total >= 10 and e.errors / e.total >= 0.5]
    # Near a threshold counts as over it: a wrong SEV-2 costs a manager's attention, a wrong
    # SEV-3 costs users an hour.
    r = None if ratio is None else ratio * 1.2
    if m := _SEV1_WORDS.search(text):
        return "SEV-1", f"the report says {m.group(0)!r}: total outage or data loss"
    if f.collapsed and f.volume is not None:
        return "SEV-1", (f"the service nearly stopped logging ({f.volume.after:.1f} records/min against {f.volume.before:.0f} before) "
                         "and what is left are errors: it has stopped serving, a total outage")
    if r is not None and r >= 0.75:
        return "SEV-1", f"{an.pct(ratio)} of requests failing: effectively a total outage"
    if r is not None and r >= 0.10:
        return "SEV-2", f"{an.pct(ratio)} of requests failing: a large share of users affected"
    if feature_down:
        return "SEV-2", f"{feature_down[0]} fails for at least half of its requests: a major feature is down"
    if (lat := _latency_only(f)) is not None and sig.latency_ratio(lat) >= sig.LATENCY_SEV2 and (lat.peak_p95_ms or 0) >= 1000:
        return "SEV-2", f"requests slowed to {sig.latency_line(lat)} ({sig.latency_ratio(lat):.0f}x): most users wait or time out"
    if m := _SEV2_WORDS.search(text):
        return "SEV-2", f"the report says {m.group(0)!r}: a major feature down (logs do not show the share)"
    if (lat := _latency_only(f)) is not None:
        return "SEV-3", f"requests slowed ({sig.latency_line(lat)}) but few fail: degraded, not down"
    if ratio is None and f.onset is not None:
        return "SEV-2", "errors rose but the logs do not give a failing share; if unsure, the higher severity"
    if (r is not None and r >= 0.01) or affected:
        return "SEV-3", f"{an.pct(ratio)} of requests failing: degraded, most users unaffected"
    if m := _SEV3_WORDS.search(text):
        return "SEV-3", f"the report says {m.group(0)!r}; the logs show no large error share"
    return "SEV-4", "no error rise in the logs and no outage words in the report: low impact"


def _classification(f: Facts, ratio_now: float | None) -> tuple[Classification, list[str]]:
    tl = f.ev.timeline
    why: list[str] = []
    if tl is not None and tl.onset is not None:
        if f.collapsed and f.volume is not None:
            why.append(f"errors rose at {iso(tl.onset)} and the log volume then fell to {f.volume.after:.1f} records/min "
                       f"from {f.volume.before:.0f}: the service has nearly stopped, fewer errors is not recovery")
            return "active", why
        if not tl.still_elevated and (rec := f.recurrence) is not None:
            why.append(f"errors rose at {iso(tl.onset)} and came back {rec.episodes} times, about every {rec.period_minutes:.0f} min; "
                       f"the {rec.quiet_minutes:.0f} min of calm since the last burst are within the usual gap, not a recovery")
            return "active", why
        if not tl.still_elevated:
            why.append(f"errors rose at {iso(tl.onset)} and are back at baseline" + (f" since {iso(tl.recovered_at)}" if tl.recovered_at else ""))
            if f.rollbacks:
                d = f.rollbacks[0]
                why.append(f"after rollback deploy {d.service or ''} {d.id} at {iso(d.started_at)}".replace("  ", " "))
            elif f.mitigation[0] is not None:
                why.append(f"after the {f.mitigation[1]}")
            return "post-incident", why
        if f.rise_start is not None:
            why.append(f"errors have been climbing slowly since about {iso(f.rise_start)} (no clear step; over the threshold since {iso(tl.onset)}) and are still elevated")
        else:
            why.append(f"errors rose at {iso(tl.onset)} and are still elevated")
        per_min_high = tl.recent_errors_per_min >= max(5.0, 10 * tl.baseline_errors_per_min)
        severe = (ratio_now is not None and ratio_now >= ACTIVE_RATIO) or (ratio_now is None and per_min_high)
        if severe or _SEV2_WORDS.search(f.symptom) or _SEV1_WORDS.search(f.symptom):
            why.append(f"{an.pct(ratio_now)} of recent requests failing")
            return "active", why
        why.append(f"only {an.pct(ratio_now)} of recent requests failing: partial impact")
        return "degraded", why
    if (lat := f.latency) is not None and lat.onset is not None:
        return _latency_classification(f, lat, why)
    # The logs do not show the incident: go by what the operator reported.
    why.append("the logs show no error rise" if tl is not None and tl.total_lines else "no log evidence")
    if _RECOVERED_WORDS.search(f.symptom) or (f.brief.mitigation_at is not None):
        why.append("the report says it has recovered")
        return "post-incident", why
    if _PARTIAL_WORDS.search(f.symptom):
        why.append("the report describes partial impact")
        return "degraded", why
    why.append("an incident was reported and nothing shows it is over: treated as active")
    return "active", why


def _latency_only(f: Facts) -> LatencyProfile | None:
    """The latency rise when it, not an error rise, is the incident's evidence."""
    return f.latency if f.onset_source == "latency" else None


def _latency_classification(f: Facts, lat: LatencyProfile, why: list[str]) -> tuple[Classification, list[str]]:
    line = sig.latency_line(lat)
    if not lat.still_elevated:
        back = f" since {iso(lat.recovered_at)}" if lat.recovered_at else ""
        why.append(f"requests slowed from {iso(lat.onset)} ({line}) with no error rise, and latency is back near baseline{back}")
        return "post-incident", why
    why.append(f"requests have been slow since {iso(lat.onset)} ({line}) though few fail: the slowdown is the impact")
    if sig.latency_ratio(lat) >= sig.LATENCY_SEV2 or _SEV2_WORDS.search(f.symptom) or _SEV1_WORDS.search(f.symptom):
        return "active", why
    return "degraded", why


def classify(f: Facts) -> ClassifyOutput:
    tl = f.ev.timeline
    ratio_now = tl.recent_error_ratio if tl else None
    classification, why = _classification(f, ratio_now)
    if classification == "post-incident" and f.onset is not None:
        impact = an.rate(f.ev, f.onset, tl.recovered_at if tl and tl.recovered_at else None).ratio
    else:
        impact = an.rate(f.ev, f.onset, None).ratio if f.onset else ratio_now
    if f.recurrence is not None and f.recurrence.ratio is not None:
        impact = max(impact or 0.0, f.recurrence.ratio)  # users meet the bursts, not the average
    sev, sev_reason = severity(f, impact)
    citations = ["error_timeline"] if tl else []
    citations += ["latency_profile"] if f.latency is not None else []
    citations += [f"deploy_history: {d.service or ''} {d.id} (rollback)".replace("  ", " ") for d in f.rollbacks[:1]]
    label = {"active": "Active incident", "degraded": "Degraded service", "post-incident": "Post-incident (the impact is over)"}
    summary = f"{label[classification]}, proposed {sev}: {'; '.join(why)}."
    return ClassifyOutput(
        classification=classification, severity=sev, severity_reason=sev_reason, start_phase=start_phase(classification),
        error_ratio_now=ratio_now, baseline_error_ratio=tl.baseline_error_ratio if tl else None,
        still_elevated=tl.still_elevated if tl and tl.onset else None, summary=summary, citations=citations,
    )


# ---------------------------------------------------------------- assess


def _trend(f: Facts) -> str:
    tl = f.ev.timeline
    if tl is None or f.onset is None:
        return "unknown"
    if f.recurrence is not None:
        return "stable"  # bursts come and go; halves of a sawtooth say nothing about a trend
    if (lat := _latency_only(f)) is not None:
        return _latency_trend(lat)
    if tl.onset is not None and not tl.still_elevated:
        return "recovered"
    rows = [b for b in tl.buckets if b.at >= f.onset]
    if len(rows) < 4:
        return "unknown"
    half = len(rows) // 2
    if all(b.total for b in rows[:half]) and any(b.total for b in rows[-half:]):
        # With totals, the share failing: a service that stops serving has fewer errors, not fewer failures.
        first = sum(b.errors for b in rows[:half]) / max(1, sum(b.total for b in rows[:half]))
        last = sum(b.errors for b in rows[-half:]) / max(1, sum(b.total for b in rows[-half:]))
    else:
        first = sum(b.errors for b in rows[:half]) / half
        last = sum(b.errors for b in rows[-half:]) / half
    if last > first * 1.25:
        return "worsening"
    if last < first * 0.75:
        return "improving"
    return "stable"


def _latency_trend(lat: LatencyProfile) -> str:
    if not lat.still_elevated:
        return "recovered"
    rows = [m.p95_ms for m in lat.minutes if lat.onset is not None and m.at >= lat.onset and m.p95_ms is not None]
    if len(rows) < 4:
        return "unknown"
    half = len(rows) // 2
    first, last = sorted(rows[:half])[half // 2], sorted(rows[-half:])[half // 2]
    return "worsening" if last > first * 1.25 else "improving" if last < first * 0.75 else "stable"


def _needs(f: Facts, likely: str) -> list[str]:
    out = []
    if not f.ev.deploys:
        out.append("the deploy history (--deploys), to see what changed")
    if f.ev.timeline is None:
        out.append("the service's logs (--logs), to date the onset and size the impact")
    if f.repo is None:
        out.append("the service repository (--repo), to read the suspect change's diff")
    if f.rollback_target is not None:
        out.append(f"confirm rollback target {f.rollback_target.id} ({iso(f.rollback_target.at)}) is the last release you trust")
    if likely == "external factor":
        out.append("check the status page of the dependency named in the new errors")
    return out


def _shape(f: Facts) -> str:
    """What the error series' shape says about the onset and the state, when it misleads."""
    out = ""
    tl = f.ev.timeline
    if f.rise_start is not None and tl is not None and tl.onset is not None:
        out += (f" (no clear step: the error share has been climbing slowly since about {iso(f.rise_start)}, an estimate from "
                f"15-minute blocks; it only crossed the alert threshold at {iso(tl.onset)}, and it may have begun earlier)")
    if f.recurrence is not None:
        out += f" (recurring: {f.recurrence.episodes} bursts about every {f.recurrence.period_minutes:.0f} min)"
    if f.collapsed and f.volume is not None:
        out += f" (log volume collapsed to {f.volume.after:.1f} records/min from {f.volume.before:.0f}: the service has nearly stopped)"
    return out


def assess(f: Facts) -> AssessOutput:
    ev, onset = f.ev, f.onset
    _, _, changes = an.changes_before(ev, onset, f.service)
    suspect = f.suspect
    tl = ev.timeline
    until = tl.recovered_at if tl and tl.onset and not tl.still_elevated and tl.recovered_at else None
    since = an.rate(ev, onset, until) if onset else an.Rate(0, 0, 0.0)
    affected, working = an.affected_and_working(ev)
    likely = "recent change" if suspect else ("external factor" if f.external or f.cause == "traffic" else "unknown")
    fresh = an.new_patterns(ev)
    citations = ["error_timeline"] if tl else []
    if suspect is not None:
        citations.append(f"deploy_history: {suspect.change.service or ''} {suspect.change.id}".replace("  ", " ")
                         if suspect.change.kind == "deploy" else f"recent_commits: {suspect.change.id}")
        if suspect.matched_files:
            citations.append(f"show_commit: {(suspect.change.sha or suspect.change.id)[:12]}")
    citations += [f"log_patterns: NEW {p.template[:80]}" for p in fresh[:3]]
    if ev.endpoints_after:
        citations.append("endpoint_stats")
    lat = f.latency
    if lat is not None and f.onset_source == "latency":
        affected = sig.slowed(lat) + affected
    where = affected[0] if affected else (f.service or "the service")
    if lat is not None and f.onset_source == "latency":
        broken = f"{where}; requests slow since {iso(onset)}: {sig.latency_line(lat)}, errors did not rise"
    else:
        broken = f"{where}; errors since {iso(onset)}" if onset else (f.brief.symptom or "not visible in the logs")
    broken += _shape(f)
    if lat is not None and (first := f.latency_first) is not None:
        broken += (f" (latency rose first: p95 over 3x its baseline from {iso(lat.onset)}, {first:.0f} min before the errors; "
                   "users felt it from then; the onset here is the errors')")
    if lat is not None:
        citations.append("latency_profile")
    if suspect is not None:
        trig = f"suspect: {suspect.change.summary} ({suspect.change.minutes_before_onset} min before onset)"
    elif f.cause == "traffic" and f.volume is not None:
        trig = f"no change correlates with the onset; traffic is {f.volume.ratio:.1f}x its usual rate ({f.volume.before:.0f} -> {f.volume.after:.0f} records/min)"
    elif likely == "external factor":
        trig = f"no change correlates with the onset; new errors point outside: {f.external[0][:100]}"
    elif f.signal is not None and f.cause in ("memory", "disk", "db"):
        trig = f"no change correlates with the onset; the errors show a resource running out: {f.signal.example[:100]}"
    elif lat is not None and f.onset_source == "latency":
        trig = ("no change correlates with the slowdown and no errors name a cause: look at what requests wait on "
                "(database, dependencies' latency, CPU/GC, pools, locks)")
    else:
        trig = "no change correlates with the onset and the errors do not name a cause"
    summary = (f"{broken}; {an.pct(since.ratio)} of requests failing ({since.errors} errors). {trig}."
               if onset else f"No error rise found in the logs. {trig}.")
    return AssessOutput(
        broken=broken, onset=onset,
        blast_radius=BlastRadius(error_ratio=since.ratio, errors_since_onset=since.errors, affected=affected, trend=_trend(f),  # type: ignore[arg-type]
                                 latency=sig.latency_line(lat) if lat is not None else ""),
        changes=changes[:20], suspect_change=suspect.change if suspect else None, rollback_target=f.rollback_target,
        likely_trigger=likely,  # type: ignore[arg-type]
        new_error_patterns=[PatternRef(template=p.template, count=p.count, first_seen=p.first_seen) for p in fresh[:10]],
        still_working=working[:10], needs_from_operator=_needs(f, likely), summary=summary, citations=citations,
    )
