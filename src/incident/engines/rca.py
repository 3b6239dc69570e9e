"""Diagnose, fix, verify and review, offline: root cause from the suspect's diff and the traces,
the fix plan, the mitigation's effect on the error rate, and the action items.

"unknown" is a legitimate answer at every step; a root cause the evidence does not show is worse
than none, because the team stops looking.
"""

from __future__ import annotations

import re

from incident.clock import iso
from incident.engines import analysis as an
from incident.engines.facts import Facts
from incident.models import ContainOutput, DiagnoseOutput, FixOutput, PatternRef, RootCauseCategory

_TEST_FILE = re.compile(r"(^|/)(tests?|spec|__tests__)/|(^|/)test_[^/]+$|_test\.\w+$|\.(test|spec)\.\w+$|Test\.java$")
_CONFIG_FILE = re.compile(r"\.(ya?ml|json|toml|ini|cfg|conf|env|properties|tf|tfvars)$|(^|/)(config|conf|settings|helm|charts?|k8s|deploy)/|Dockerfile$")
_MIGRATION = re.compile(r"(^|/)(migrations?|alembic|db/migrate|schema)/|\.sql$")
_DB_ERROR = re.compile(r"IntegrityError|UniqueViolation|duplicate key|constraint|UndefinedColumn|no such column|column .* does not exist|relation .* does not exist|deserializ|invalid input syntax|data too long", re.I)
_NONE_ATTR = re.compile(r"'NoneType' object has no attribute '(\w+)'|Cannot read propert(?:y|ies) of (?:null|undefined) \(reading '(\w+)'\)|NullPointerException")


def _category(f: Facts, exc: str | None) -> tuple[RootCauseCategory, str]:
    s = f.suspect
    changed = s.files if s else []
    if s is not None and changed and _MIGRATION.search(" ".join(changed)) and exc and _DB_ERROR.search(exc):
        return "data integrity issue", "a schema/data migration shipped with the suspect and the errors come from the database layer"
    if s is not None and s.matched_files:
        if all(_CONFIG_FILE.search(x) for x in s.matched_files):
            return "configuration error", "the failing files named by the traces are configuration the suspect changed"
        return "code defect", "the stack traces since onset run through code the suspect change modified"
    if s is not None and changed and all(_CONFIG_FILE.search(x) for x in changed):
        return "configuration error", "the suspect change touched only configuration"
    if an.capacity_signals(f.ev):
        return "infrastructure / capacity issue", f"errors read like saturation: {an.capacity_signals(f.ev)[0][:80]}"
    if s is None and f.external:
        return "external dependency failure", f"no change correlates and the new errors point at a dependency: {f.external[0][:80]}"
    if s is not None:
        diff = "its diff does not touch the files in the stack traces" if changed else "its diff could not be read (give --repo)"
        return "unknown", f"{s.change.id} correlates with the onset in time only; {diff}"
    return "unknown", "the evidence does not tie the errors to a change or a dependency"


def _why_not_caught(f: Facts) -> str:
    s = f.suspect
    if s is None or not s.files:
        return ""
    tests = [x for x in s.files if _TEST_FILE.search(x)]
    frame = f.traces.innermost()
    target = f"{frame.function}() in {s.matched_files[0]}" if frame and s.matched_files else ", ".join(s.files[:3])
    if not tests:
        return f"the release changed {', '.join(s.files[:4])} without changing any test: nothing exercised {target} with the input that failed"
    return f"the release changed tests ({', '.join(tests[:3])}) but none covered {target} with the input that failed"


def _factors(f: Facts, why: str, exc: str | None, frame: an.Frame | None) -> list[str]:
    s = f.suspect
    factors = [why] if why else []
    if _NONE_ATTR.search(exc or ""):
        factors.append(f"missing handling of a missing (None/null) value in {frame.function if frame else 'the failing code'}()")
    if s is not None and s.deploy is not None:
        failed = [d for d in f.ev.deploys if d.service == s.deploy.service and d.status == "failed"
                  and 0 < (s.deploy.started_at - d.started_at).total_seconds() <= 6 * 3600]
        if failed:
            gap = round((s.deploy.started_at - failed[-1].started_at).total_seconds() / 60)
            factors.append(f"deploy {failed[-1].id} of the same service failed {gap} min before the suspect; the change went out on a retry")
    if f.external and s is None:
        factors.append("every failure of the dependency surfaced to users as an error: no fallback or circuit breaker")
    return factors


def diagnose(f: Facts) -> DiagnoseOutput:
    s, tr, onset = f.suspect, f.traces, f.onset
    exc, frame = tr.top_exception, tr.innermost()
    tl = f.ev.timeline
    since = an.rate(f.ev, onset, tl.recovered_at if tl and tl.recovered_at and not tl.still_elevated else None) if onset else an.Rate(0, 0, 0)
    affected, _ = an.affected_and_working(f.ev)
    category, cat_why = _category(f, exc)
    fresh = an.new_patterns(f.ev)
    if s is not None:
        trigger = f"{s.change.summary} at {iso(s.change.at)}, {s.change.minutes_before_onset} min before the onset"
    elif f.external:
        trigger = f"an external dependency failing: {f.external[0][:160]}"
    else:
        trigger = "unknown: no change in the window correlates with the onset"
    if frame is not None and exc:
        mechanism = f"{exc} raised in {frame.function or '?'}() at {frame.path}:{frame.line}"
        if s is not None and s.matched_files:
            mechanism += f"; {s.matched_files[0]} was changed by {s.change.id}"
        if s is not None and s.matched_symbols:
            mechanism += f" (its diff touches {', '.join(s.matched_symbols[:3])})"
    elif fresh:
        mechanism = f"a new error since the onset: {fresh[0].template[:200]} (x{fresh[0].count})"
    else:
        mechanism = "unknown"
    impact = (f"{since.errors} failed requests since {iso(onset)} ({an.pct(since.ratio)} of requests)"
              + (f", on {', '.join(affected[:3])}" if affected else "")) if onset else "unknown"
    why = _why_not_caught(f)
    implicated = (s.matched_files if s and s.matched_files else [p for p, _ in tr.files.most_common(3)])
    factors = _factors(f, why, exc, frame)
    risks = []
    if frame is not None and frame.function and category == "code defect":
        risks.append(f"other callers of {frame.function}() and other code reading the same value can fail the same way")
    if s is not None:
        others = [x for x in s.files if x not in s.matched_files and not _TEST_FILE.search(x)]
        if others:
            risks.append(f"the release also changed {', '.join(others[:4])}; this incident says nothing about them")
    if category == "external dependency failure":
        risks.append("other calls to the same dependency (and its retries) can fail or pile up the same way")
    root = (f"{trigger}. {mechanism}. Category: {category} ({cat_why})." if category != "unknown"
            else f"Root cause unknown: {cat_why}. Trigger: {trigger}. Observed: {mechanism}.")
    citations = ["error_samples"] if f.ev.error_samples else []
    if s is not None:
        citations.append(f"show_commit: {(s.change.sha or s.change.id)[:12]}")
    citations += [f"log_patterns: NEW {p.template[:80]}" for p in fresh[:2]]
    return DiagnoseOutput(
        root_cause=root, trigger=trigger, mechanism=mechanism, impact=impact, why_not_caught=why, category=category,
        implicated_files=implicated, contributing_factors=factors, related_risks=risks,
        mitigation_sufficient=False if category in ("code defect", "configuration error", "data integrity issue") else None,
        summary=(f"{category.capitalize()}: {mechanism}." if category != "unknown" else f"Root cause not established from the evidence. {mechanism}.")[:400],
        citations=citations, onset=onset, suspect_change=s.change if s else None, rollback_target=f.rollback_target,
        new_error_patterns=[PatternRef(template=p.template, count=p.count, first_seen=p.first_seen) for p in fresh[:10]],
    )


def _fix_hint(exc: str | None) -> str:
    if exc and (m := _NONE_ATTR.search(exc)):
        attr = m.group(1) or m.group(2)
        return (f"handle a missing (None) value before reading `.{attr}`, or make the caller never pass one; decide which contract is right"
                if attr else "handle the null value before it is dereferenced")
    if exc and (m := re.search(r"KeyError: '?([^']+)'?", exc)):
        return f"handle a missing key {m.group(1)!r} (or make it impossible)"
    return f"make it handle the input that raised `{exc}`" if exc else "make it handle the input seen in the error samples"


def _mitigation_kind(f: Facts) -> str | None:
    if f.rollbacks:
        return "rollback"
    action = (f.brief.mitigation_action or "").lower()
    if action:
        for kind in ("rollback", "flag", "scale", "restart", "failover"):
            if kind in action or (kind == "rollback" and "roll back" in action):
                return kind
        return "other"
    contain = f.brief.outputs.get("contain")
    if isinstance(contain, ContainOutput) and contain.mitigations:
        return contain.mitigations[0].kind
    return None


def fix(f: Facts) -> FixOutput:
    s, frame, exc = f.suspect, f.traces.innermost(), f.traces.top_exception
    diag = f.brief.outputs.get("diagnose")
    category = getattr(diag, "category", None) or _category(f, exc)[0]
    files = list(getattr(diag, "implicated_files", []) or (s.matched_files if s else []))
    plan, tests, not_addressed = [], [], []
    where = f"{frame.function}() in {files[0]}" if frame and files else (files[0] if files else None)
    if category == "code defect" and where:
        plan.append(f"Fix {where}: {_fix_hint(exc)}")
        tests.append(f"a regression test for {where} with the input that raised `{exc or 'the error'}`; it must fail without the fix")
        tests.append("edge cases around the same input: missing, empty and malformed values")
    elif category == "configuration error":
        plan.append(f"Correct the configuration in {', '.join(files[:3]) or 'the changed config'} and validate it in CI before deploy")
        tests.append("a CI check that loads the configuration the way production does")
    elif category == "data integrity issue":
        plan.append("Make the migration and the code agree (expand/contract), and repair the rows written since the onset")
        tests.append("a migration test against a copy of production-shaped data")
    elif category == "external dependency failure":
        plan.append("Add a timeout, bounded retries with backoff and a fallback (or circuit breaker) around the failing dependency")
        tests.append("a test where the dependency times out or refuses, asserting the service degrades instead of failing")
    else:
        plan.append("Root cause unknown: gather more evidence (logs around the onset, the dependency's status, recent config changes) before changing code; do not ship a speculative fix")
    if s is not None and s.files:
        others = [x for x in s.files if x not in files and not _TEST_FILE.search(x)]
        if others:
            plan.append(f"Review the rest of {s.change.id} ({', '.join(others[:4])}) for the same assumption")
    affected, _ = an.affected_and_working(f.ev)
    if affected:
        tests.append(f"an endpoint test for {affected[0].split(' (')[0]} covering the path that failed")
    kind = _mitigation_kind(f)
    if kind == "rollback":
        plan.append("Ship the fix through normal review and CI, then redeploy forward with it; the rollback stays until then")
        removable: bool | None = True
    elif kind in ("feature-flag", "flag"):
        plan.append("Ship the fix, then turn the flag back on and watch the error rate")
        removable = True
    else:
        removable = None if kind is None else True
    risky_reasons = []
    if s is not None and len(s.files) > 15:
        risky_reasons.append(f"the suspect release changed {len(s.files)} files")
    if s is not None and _MIGRATION.search(" ".join(s.files)):
        risky_reasons.append("it includes a schema migration")
    if category in ("infrastructure / capacity issue", "data integrity issue"):
        risky_reasons.append(f"a {category} is rarely fixed safely by a hotfix")
    if risky_reasons:
        not_addressed.append("too risky for a hotfix (" + "; ".join(risky_reasons) + "): ship a safe short-term fix and track the full fix as a follow-up")
    not_addressed += list(getattr(diag, "related_risks", []) or [])[:3]
    summary = f"{plan[0]}." + (f" Tests: {tests[0]}." if tests else "")
    return FixOutput(
        plan=plan, files_to_change=files[:5], tests_to_add=tests, mitigation_removable_after_fix=removable,
        too_risky_for_hotfix=bool(risky_reasons), not_addressed=not_addressed, summary=summary[:400],
        citations=["diagnose"] + ([f"show_commit: {(s.change.sha or s.change.id)[:12]}"] if s else []),
    )
