"""The postmortem's sections, each computed from recorded facts (see `report.py`).

Narrative text here is plain and factual: it restates what the journal holds. A fact the
journal lacks becomes `TODO: <what to fill in>` — visible, never guessed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from incident.models import VerifyOutput
from incident.report import (
    ActionItemRow,
    AppliedAction,
    EvidenceLink,
    Impact,
    Lessons,
    MitigationAndFix,
    Postmortem,
    RootCause,
    _change_text,
    _Facts,
    _fmt,
    _known,
    duration_text,
    todo,
)

SLO_WINDOW_DAYS = 30
_PRIORITY_ORDER = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}
# Engines propose; only a person assigns. Outputs from these engines lose any owner they named.
_ENGINES_THAT_MAY_NOT_ASSIGN = {"offline", "claude", "auto", ""}

EVIDENCE_LABELS = {
    "timeline.json": "error timeline (errors per minute, onset, recovery)",
    "deploys.json": "deploy history",
    "error-samples.log": "error log excerpts",
    "patterns.json": "log patterns (new since onset)",
    "suspect.diff": "diff of the suspect change",
}


def _pct(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio * 100:.1f}%"


def _rate(v: float | None) -> str:
    return "-" if v is None else f"{v:g}"


def detection(f: _Facts) -> str:
    st = f.state
    alert = f.events[0].payload.get("alert")
    how = f"by the alert `{alert}`" if alert else None
    text = f"The incident was opened at {_fmt(st.detected_at)}"
    text += f", raised {how}." if how else "."
    if st.started_at and st.detected_at and st.started_at <= st.detected_at:
        gap = (st.detected_at - st.started_at).total_seconds() / 60
        text += f" That was {duration_text(gap)} after user impact began."
    if not alert:
        text += " " + todo("how the problem was noticed (an alert, a user report, a dashboard) and whether alerting should have caught it sooner")
    return text


def _slo(slo_target: float | None, minutes: float | None, ratio: float | None) -> str:
    if slo_target is None:
        return todo("SLO/SLA implications (set `slo_target` in .incident.yaml to compute the error budget used)")
    budget = SLO_WINDOW_DAYS * 24 * 60 * (1 - slo_target / 100)
    head = (
        f"An availability SLO of {slo_target:g}% allows {budget:.1f} minutes of full outage per "
        f"{SLO_WINDOW_DAYS} days."
    )
    if minutes is None:
        return head + " " + todo("the impact duration (start and recovery times) to compute the error budget used")
    if ratio is None:
        worst = minutes / budget * 100 if budget else 0.0
        return head + (
            f" {duration_text(minutes)} of impact used at most {worst:.0f}% of that budget (if every request failed); "
            "the share of requests that failed is not recorded."
        )
    used = minutes * ratio
    share = used / budget * 100 if budget else 0.0
    return head + (
        f" {duration_text(minutes)} of impact with {_pct(ratio)} of requests failing is about {used:.1f} "
        f"minutes of full outage: {share:.0f}% of the {SLO_WINDOW_DAYS}-day error budget (assuming steady traffic)."
    )


def impact(f: _Facts, started: datetime | None, ended: datetime | None, minutes: float | None, slo_target: float | None) -> Impact:
    a, v, tl = f.assess, f.verify, f.timeline
    br = a.blast_radius if a else None
    broken = (a.broken if a and a.broken else None) or f.state.symptom or todo("what was broken for users")
    ratio = br.error_ratio if br and br.error_ratio is not None else (v.error_ratio_before if v else None)
    errors = br.errors_since_onset if br and a else None
    parts: list[str] = []
    missing = None  # a TODO goes last, so it reads as one sentence to the end of the text
    if started and ended:
        parts.append(f"Users were affected from {_fmt(started)} to {_fmt(ended)} ({duration_text(minutes)}).")
    elif started:
        parts.append(f"Users were affected from {_fmt(started)}.")
        missing = todo("when the impact ended")
    else:
        missing = todo("when user impact began and ended")
    if errors is not None:
        parts.append(f"{errors} error records were logged after the onset" + (f", {_pct(ratio)} of requests." if ratio is not None else "."))
    if br and br.affected:
        parts.append("Affected: " + ", ".join(br.affected[:10]) + ".")
    if missing:
        parts.append(missing)
    return Impact(
        narrative=" ".join(parts),
        broken=broken,
        duration_minutes=minutes,
        errors_since_onset=errors,
        error_ratio=ratio,
        peak_errors_per_min=tl.peak_errors_per_min if tl else None,
        errors_per_min_before=v.errors_per_min_before if v else None,
        errors_per_min_after=v.errors_per_min_after if v else None,
        affected=list(br.affected) if br else [],
        users=todo("how many users were affected (the logs count requests, not users)"),
        revenue_or_data=todo("revenue or data impact, if any (write 'none' if none)"),
        slo=_slo(slo_target, minutes, ratio),
    )


def root_cause(f: _Facts) -> RootCause:
    d, a = f.diagnose, f.assess
    sc = (a.suspect_change if a else None) or (d.suspect_change if d else None)
    suspect = _change_text(sc.kind, sc.id, sc.service, sc.summary) if sc else None

    def known(value: str | None, missing: str) -> str:
        return str(value) if _known(value) else todo(missing)

    return RootCause(
        narrative=known(d.root_cause if d else None, "the root cause in one paragraph (the diagnose phase did not record one)"),
        trigger=known(d.trigger if d else None, "the trigger: the change, traffic or dependency that started the failure"),
        mechanism=known(d.mechanism if d else None, "the mechanism: how the trigger produced the errors"),
        impact=known(d.impact if d else None, "what broke as a result"),
        why_not_caught=known(d.why_not_caught if d else None, "why tests, review, canarying or monitoring did not catch it earlier"),
        category=known(d.category if d else None, "the root cause category (code defect, configuration error, ...)"),
        implicated_files=list(d.implicated_files) if d else [],
        related_risks=list(d.related_risks) if d else [],
        suspect_change=suspect,
        mitigation_sufficient=d.mitigation_sufficient if d else None,
    )


def mitigation(f: _Facts) -> MitigationAndFix:
    st, v, fx = f.state, f.verify, f.fix
    applied = [
        AppliedAction(at=c.ran_at or c.at, action=c.action, command=c.command, kind=c.kind, vetted=c.vetted)
        for c in st.commands_ran
    ]
    if applied:
        first = applied[0]
        narrative = f"Mitigation applied at {_fmt(first.at)}: {first.action.rstrip('.')}" + (" (a runbook-vetted command)." if first.vetted else ".")
        if len(applied) > 1:
            narrative += f" {len(applied) - 1} further action(s) followed; see the timeline."
    elif st.mitigated_at:
        narrative = f"Marked mitigated at {_fmt(st.mitigated_at)}. " + todo("what the mitigation was")
    else:
        narrative = "No mitigation was recorded in the journal. " + todo("what restored service, if anything (a restart, a rollback, a config change) and when")
    if v and v.status != "unknown":
        eff = f"{v.status}: errors per minute {_rate(v.errors_per_min_before)} before, {_rate(v.errors_per_min_after)} after."
        eff += _checks_text(v)
    elif applied or st.mitigated_at:
        eff = todo("whether the mitigation worked (the error rate before and after it)")
    else:
        eff = "No mitigation to assess."
    deployed = st.fix_deployed_at is not None
    return MitigationAndFix(
        narrative=narrative,
        applied=applied,
        effectiveness=eff,
        verify_checks=list(v.checks) if v else [],
        # The checks have their own table; their residual lines would say it twice.
        residual_issues=[r for r in v.residual_issues if not (v.checks and r.startswith("runbook check "))] if v else [],
        fix_plan=list(fx.plan) if fx and fx.plan else [todo("the proper fix (planned or applied)")],
        fix_deployed=deployed,
        files_changed=list(fx.files_to_change) if fx and fx.files_to_change else [todo("the files the fix changes")],
        tests_added=list(fx.tests_to_add) if fx and fx.tests_to_add else [todo("the tests added to catch a recurrence")],
        mitigation_removable_after_fix=fx.mitigation_removable_after_fix if fx else None,
        not_addressed=list(fx.not_addressed) if fx else [],
    )


def _checks_text(v: VerifyOutput) -> str:
    judged = [c for c in v.checks if c.status != "unknown"]
    if not judged:
        return ""
    failed = [c.description or c.pattern for c in judged if c.status == "fail"]
    text = f" The runbook's verify checks: {sum(c.status == 'pass' for c in judged)} of {len(v.checks)} passed"
    return text + (f"; failed: {', '.join(failed)}." if failed else ".")


def contributing(f: _Facts) -> list[str]:
    items: list[str] = []
    for src in (f.diagnose, f.review):
        if src is not None:
            items += [c for c in src.contributing_factors if c.strip()]
    items = list(dict.fromkeys(items))
    return items or [todo("contributing factors: process, tooling, monitoring or testing gaps beyond the direct cause")]


def action_items(f: _Facts) -> list[ActionItemRow]:
    r = f.review
    if r is None:
        return []
    engine = f.state.phases["review"].engine if "review" in f.state.phases else ""
    rows = []
    for item in r.action_items:
        owner = item.owner if item.owner and engine not in _ENGINES_THAT_MAY_NOT_ASSIGN else None
        if item.owner and owner is None:
            f.warnings.append(f"the {engine or 'review'} engine named an owner for {item.description[:40]!r}; dropped: owners are the team's decision")
        rows.append(ActionItemRow(**{**item.model_dump(), "owner": owner}, unassigned=owner is None))
    return sorted(rows, key=lambda x: _PRIORITY_ORDER.get(x.priority, 9))


def lessons(f: _Facts) -> Lessons:
    r = f.review
    well = [x for x in (r.went_well if r else []) if x.strip()]
    improve = [x for x in (r.could_improve if r else []) if x.strip()]
    return Lessons(
        went_well=well or [todo("what went well during the response")],
        could_improve=improve or [todo("what could be improved")],
    )


def evidence_links(f: _Facts) -> list[EvidenceLink]:
    links: list[EvidenceLink] = []
    seen: set[str] = set()
    folder = f.folder.resolve()
    for raw in f.state.evidence_files:
        p = Path(raw)
        if p.is_absolute():
            try:
                p = p.resolve().relative_to(folder)
            except (ValueError, OSError):
                f.warnings.append(f"evidence {raw} is outside the incident folder; not linked")
                continue
        rel = p.as_posix()
        if rel in seen or ".." in p.parts:
            continue
        seen.add(rel)
        label = EVIDENCE_LABELS.get(p.name, p.name)
        try:
            exists = (f.folder / p).is_file()
        except OSError:  # a hand-edited path the filesystem refuses (too long, ...)
            exists = False
        links.append(EvidenceLink(path=rel, label=label, exists=exists))
    return links


def summary(f: _Facts, pm: Postmortem) -> str:
    st = f.state
    who = st.service or "the service"
    parts = []
    kind = " ".join(x for x in (st.classification, "incident") if x)
    sev = f" ({st.severity})" if st.severity else ""
    article = "An" if kind[0] in "aeiou" else "A"
    parts.append(f"{article} {kind}{sev} affected {who}.")
    if not pm.impact.broken.startswith("TODO"):
        parts.append(f"What was broken: {pm.impact.broken.rstrip('.')}.")
    times = {k.key: k.at for k in pm.key_times}
    if times.get("started") and times.get("recovered"):
        parts.append(f"User impact lasted {duration_text(pm.impact_minutes)}, from {_fmt(times['started'])} to {_fmt(times['recovered'])}.")
    if pm.mitigation.applied:
        m = pm.mitigation.applied[0]
        parts.append(f"Mitigation at {_fmt(m.at)}: {m.action.rstrip('.')}.")
    if not pm.root_cause.narrative.startswith("TODO"):
        cat = "" if pm.root_cause.category.startswith("TODO") else f" ({pm.root_cause.category})"
        parts.append(f"Root cause{cat}: {pm.root_cause.narrative.rstrip('.')}.")
    if st.fix_deployed_at:
        parts.append(f"The proper fix was deployed at {_fmt(st.fix_deployed_at)}.")
    return " ".join(parts)
