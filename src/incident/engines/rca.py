"""Diagnose, fix, verify and review, offline: root cause from the suspect's diff and the traces,
the fix plan, the mitigation's effect on the error rate, and the action items.

"unknown" is a legitimate answer at every step; a root cause the evidence does not show is worse
than none, because the team stops looking.
"""

from __future__ import annotations

import re

from incident.clock import iso
from incident.engines import analysis as an
from incident.engines import signals as sig
from incident.engines.facts import Facts
from incident.models import ChangeRef, ContainOutput, DiagnoseOutput, FixOutput, PatternRef, RootCauseCategory

_TEST_FILE = re.compile(r"(^|/)(tests?|spec|__tests__)/|(^|/)test_[^/]+$|_test\.\w+$|\.(test|spec)\.\w+$|Test\.java$")
_CONFIG_FILE = re.compile(r"\.(ya?ml|json|toml|ini|cfg|conf|env|properties|tf|tfvars)$|(^|/)(config|conf|settings|helm|charts?|k8s|deploy)/|Dockerfile$")
MIGRATION = re.compile(r"(^|/)(migrations?|alembic|db/migrate|schema|flyway|liquibase)/|\.sql$", re.I)
_DB_ERROR = re.compile(r"IntegrityError|UniqueViolation|duplicate key|constraint|UndefinedColumn|no such column|column .* does not exist|relation .* does not exist|deserializ|invalid input syntax|data too long", re.I)
_NONE_ATTR = re.compile(r"'NoneType' object has no attribute '(\w+)'|Cannot read propert(?:y|ies) of (?:null|undefined) \(reading '(\w+)'\)|NullPointerException")


def _category(f: Facts, exc: str | None) -> tuple[RootCauseCategory, str]:
    s = f.suspect
    changed = s.files if s else []
    db_error = bool(exc and _DB_ERROR.search(exc)) or f.cause == "schema"
    if s is not None and changed and MIGRATION.search(" ".join(changed)) and db_error:
        return "data integrity issue", "a schema/data migration shipped with the suspect and the errors come from the database layer"
    if s is not None and s.flip:
        if s.enabled is not None:
            return "code defect", f"{s.change.id} switched on code from {s.enabled.id}, and the traces since onset fail in that code"
        return "configuration error", f"{s.change.id} changed a {s.flip} and shipped no code"
    if s is not None and s.matched_files:
        if all(_CONFIG_FILE.search(x) for x in s.matched_files):
            return "configuration error", "the failing files named by the traces are configuration the suspect changed"
        return "code defect", "the stack traces since onset run through code the suspect change modified"
    if s is not None and changed and all(_CONFIG_FILE.search(x) for x in changed):
        return "configuration error", "the suspect change touched only configuration"
    if s is not None and f.cause == "memory":
        return "code defect", (f"memory ran out {s.change.minutes_before_onset} min after {s.change.id}, the last release before it: "
                               "a leak in that release is the likely mechanism (confirm with a heap dump)")
    if s is None and (f.cause in sig.CAPACITY or f.cause == "traffic") and f.signal is not None:
        return "infrastructure / capacity issue", f"{_CAUSE_WORDS[f.cause]}: {f.signal.example[:80]}"
    if an.capacity_signals(f.ev) and not (s is None and f.external):
        return "infrastructure / capacity issue", f"errors read like saturation: {an.capacity_signals(f.ev)[0][:80]}"
    if s is None and f.external:
        return "external dependency failure", f"no change correlates and the new errors point at a dependency: {f.external[0][:80]}"
    if s is not None:
        diff = "its diff does not touch the files in the stack traces" if changed else "its diff could not be read (give --repo)"
        return "unknown", f"{s.change.id} correlates with the onset in time only; {diff}"
    return "unknown", "the evidence does not tie the errors to a change or a dependency"


_CAUSE_WORDS = {
    "traffic": "more traffic than the service can take",
    "overload": "the service ran out of workers",
    "db": "the database ran out of connections or time",
    "disk": "a full disk",
    "memory": "memory ran out",
}


def _trigger(f: Facts) -> str:
    s, onset = f.suspect, f.onset
    if s is not None:
        out = f"{s.change.summary} at {iso(s.change.at)}, {s.change.minutes_before_onset} min before the onset"
        return out + (f", switching on code shipped in {s.enabled.id}" if s.enabled is not None else "")
    v, example = f.volume, (f.signal.example[:160] if f.signal else "")
    if f.cause == "traffic" and v is not None:
        return f"a traffic spike: {v.ratio:.1f}x the usual request rate since {iso(onset)} ({v.before:.0f} -> {v.after:.0f} records/min), no change in the window"
    if f.cause in ("db", "disk", "memory", "overload"):
        load = f"; traffic at {v.ratio:.1f}x its usual rate" if v is not None else ""
        return f"{_CAUSE_WORDS[f.cause or '']} with no change in the window{load}: {example}"
    if f.cause == "tls":
        return f"a dependency's TLS certificate is expired or not yet valid: {example}"
    if f.cause == "dns":
        return f"a dependency's name stopped resolving: {example}"
    if f.external:
        return f"an external dependency failing: {f.external[0][:160]}"
    if f.latency is not None and f.onset_source == "latency":
        return f"unknown: no change in the window correlates with the slowdown that began at {iso(onset)}"
    return "unknown: no change in the window correlates with the onset"


def _name(ch: ChangeRef) -> str:
    """'deploy checkout 6' / 'commit 2b183f182c6b': a bare id reads as a number."""
    return f"deploy {ch.service} {ch.id}" if ch.kind == "deploy" and ch.service else f"{ch.kind} {ch.id}"


def _mechanism(f: Facts, exc: str | None, frame: an.Frame | None) -> str:
    s, fresh = f.suspect, an.new_patterns(f.ev)
    if f.latency is not None and f.onset_source == "latency":
        # Errors stayed flat: what they say predates the slowdown and does not explain it.
        return (f"requests slowed ({sig.latency_line(f.latency)}) from {iso(f.latency.onset)} while errors stayed flat: "
                "something every request waits on (the database, a dependency, CPU or GC, a pool or a lock) got slower")
    if frame is not None and exc:
        out = f"{exc} raised in {frame.function or '?'}() at {frame.path}:{frame.line}"
        if s is not None and s.matched_files:
            out += f"; {s.matched_files[0]} was changed by {_name(s.change)}"
        if s is not None and s.matched_symbols:
            out += f" (its diff touches {', '.join(s.matched_symbols[:3])})"
    elif f.signal is not None:
        out = f"{f.signal.example[:200]} ({f.signal.records} of {f.signal.of} error records since the onset)"
    elif fresh:
        out = f"a new error since the onset: {fresh[0].template[:200]} (x{fresh[0].count})"
    else:
        return "unknown"
    how = {
        "db": "queries wait for a connection, a lock or the statement timeout: slow queries or locks hold what the rest need",
        "traffic": "the service runs out of workers and rejects or times out the excess",
        "disk": "every write to the full volume fails",
        "tls": "every call to the dependency fails its TLS handshake",
        "dns": "calls to the dependency fail before connecting: its name does not resolve",
        "memory": "instances run out of heap and are killed",
    }.get(f.cause or "")
    if how:
        out += f"; {how}"
    if f.recurrence is not None:
        out += f"; the errors come back in bursts about every {f.recurrence.period_minutes:.0f} min (crash, restart, fill up again)"
    if f.collapsed and f.volume is not None:
        out += f"; the service has nearly stopped logging ({f.volume.after:.1f} records/min, was {f.volume.before:.0f}): instances crash and restart"
    return out


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
    if s is not None and s.flip == "flag":
        factors.append(f"the flag went from off to on for all traffic at once ({s.change.id}), not in stages with a halt on errors")
    unwatched = {"db": "database connection pool usage and wait time", "disk": "free disk space",
                 "memory": "memory growth and restarts (out-of-memory kills)", "traffic": "request rate against capacity",
                 "overload": "worker saturation", "tls": "the expiry dates of the certificates the service depends on"}
    if f.cause in unwatched:
        factors.append(f"nothing alerted on {unwatched[f.cause or '']} before it caused errors")
    if f.cause == "memory" and f.recurrence is not None:
        factors.append("instances restarted after each out-of-memory kill, which hid the leak as short bursts")
    return factors


def diagnose(f: Facts) -> DiagnoseOutput:
    s, tr, onset = f.suspect, f.traces, f.onset
    exc, frame = tr.top_exception, tr.innermost()
    tl = f.ev.timeline
    since = an.rate(f.ev, onset, tl.recovered_at if tl and tl.recovered_at and not tl.still_elevated else None) if onset else an.Rate(0, 0, 0)
    affected, _ = an.affected_and_working(f.ev)
    category, cat_why = _category(f, exc)
    fresh = an.new_patterns(f.ev)
    trigger = _trigger(f)
    mechanism = _mechanism(f, exc, frame)
    impact = (f"{since.errors} failed requests since {iso(onset)} ({an.pct(since.ratio)} of requests)"
              + (f", on {', '.join(affected[:3])}" if affected else "")) if onset else "unknown"
    if f.latency is not None:
        impact += ("; " if onset else "") + f"requests slowed from {iso(f.latency.onset)}: {sig.latency_line(f.latency)}"
    why = _why_not_caught(f)
    if s is not None and s.matched_files:
        implicated = s.matched_files
    elif s is not None and s.enabled_files:
        implicated = s.enabled_files
    elif s is not None and f.cause == "memory" and s.files:
        implicated = [x for x in s.files if not _TEST_FILE.search(x)][:3]  # the leak, not where the heap ran out
    elif s is not None and category == "configuration error" and any(_CONFIG_FILE.search(x) for x in s.files):
        implicated = [x for x in s.files if _CONFIG_FILE.search(x)][:3]
    elif s is not None and category in ("code defect", "data integrity issue") and not tr.files and s.files:
        implicated = [x for x in s.files if not _TEST_FILE.search(x)][:3]
    else:
        implicated = [p for p, _ in tr.files.most_common(3)]
    factors = _factors(f, why, exc, frame)
    risks = []
    if frame is not None and frame.function and category == "code defect" and f.cause != "memory":
        risks.append(f"other callers of {frame.function}() and other code reading the same value can fail the same way")
    if s is not None:
        others = [x for x in s.files if x not in s.matched_files and x not in implicated and not _TEST_FILE.search(x)]
        if others:
            risks.append(f"the release also changed {', '.join(others[:4])}; this incident says nothing about them")
    if category == "external dependency failure":
        risks.append("other calls to the same dependency (and its retries) can fail or pile up the same way")
    risks += [r for c, r in (
        ("db", "other services sharing the database are starved of connections too; retries make it worse"),
        ("memory", "every instance of the release leaks at the same pace: the kills go on until it is rolled back or fixed"),
        ("disk", "other writers on the same volume (logs, temp files, a local database) fail the same way"),
        ("traffic", "once the service scales, the dependencies behind it get the spike"),
        ("tls", "other certificates (yours and your dependencies') expire the same way: check their dates"),
        ("dns", "other names served by the same resolver or zone can fail the same way"),
    ) if f.cause == c]
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


def _cause_plan(f: Facts) -> tuple[str, str] | None:
    """(plan, test) for a failure family whose proper fix is not a change at the raising line."""
    svc, s = f.service or "the service", f.suspect
    if f.cause == "memory":
        where = f" in {s.change.id} ({', '.join(s.files[:3])})" if s is not None and s.files else ""
        return (f"Find the leak{where}: compare two heap dumps of one instance taken minutes apart, then bound what it keeps (eviction, size limits)",
                f"a soak test that runs {svc} under production-like load for an hour and fails when the heap keeps growing")
    if s is not None:
        return None
    plans = {
        "db": ("Find what holds the connections (slow query log / pg_stat_statements around the onset, lock waits), fix those queries, "
               "and size pool x replicas under the database's max_connections with a bounded checkout timeout",
               "a load test at peak traffic that fails when pool wait time or connection count crosses its limit"),
        "disk": ("Find what filled the volume and bound it: log rotation and retention, temp-file cleanup, large files to object storage",
                 "a check in staging that the service keeps working and alerts when its volume is nearly full"),
        "traffic": ("Give the service headroom for the spike: autoscaling on request rate or queue depth with a higher maximum, "
                    "and per-client rate limits at the edge",
                    f"a load test of {svc} at five times the usual traffic that checks it sheds load instead of timing out"),
        "overload": ("Size the worker pool and the autoscaler for peak load, and shed excess requests early with a clear 429/503",
                     f"a load test of {svc} at peak traffic"),
        "tls": ("Renew the certificate and automate its renewal; monitor the expiry of every certificate the service depends on",
                "a synthetic check that calls the dependency over TLS and alerts weeks before its certificate expires"),
        "dns": ("Restore reliable name resolution for the dependency (the record, the resolver), and cache or fall back when lookups fail",
                "a test where the dependency's name does not resolve, asserting the service degrades instead of failing"),
    }
    return plans.get(f.cause or "")


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
    specific = _cause_plan(f)
    if specific is not None:
        plan.append(specific[0])
        tests.append(specific[1])
    elif category == "code defect" and where:
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
            plan.append(f"Review the rest of {_name(s.change)} ({', '.join(others[:4])}) for the same assumption")
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
    if s is not None and MIGRATION.search(" ".join(s.files)):
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
