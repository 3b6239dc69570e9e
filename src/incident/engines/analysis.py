"""Deterministic reading of the evidence: rates, stack-trace frames, rollbacks, suspects.

Pure functions over `Evidence`; the only outside input is `files_for`, which the offline engine
backs with read-only git calls. Every conclusion carries the evidence it rests on, and when the
evidence does not decide something the answer is None or "unknown", never a guess dressed up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from incident.clock import iso

# The trace helpers live in traces.py; the engines read them as an.*.
from incident.engines.traces import (  # noqa: F401
    Frame,
    TraceFacts,
    files_in_traces,
    new_patterns,
    new_trace_facts,
    path_matches,
    sample_texts,
    symbols_in_diff,
    trace_facts,
)
from incident.models import ChangeRef, Commit, Deploy, EndpointStat, Evidence, RollbackTarget

CORRELATION_MINUTES = 60  # a same-service deploy this close before the onset is a suspect on time alone
OTHER_SERVICE_MINUTES = 15  # another service's deploy needs to be this close (or named by the traces)
AFTER_ONSET_GRACE = timedelta(minutes=5)  # rolling deploys: the first new pods fail before the rollout "finishes"
MAX_DIFFED_DEPLOYS = 8  # deploys nearest the onset whose diffs are read

# ---------------------------------------------------------------- rates


@dataclass(frozen=True)
class Rate:
    errors: int
    total: int
    minutes: float

    @property
    def per_min(self) -> float | None:
        return self.errors / self.minutes if self.minutes > 0 else None

    @property
    def ratio(self) -> float | None:
        return self.errors / self.total if self.total > 0 else None


def rate(ev: Evidence, since: datetime | None, until: datetime | None) -> Rate:
    """Errors and lines in the timeline buckets whose minute starts in [since, until)."""
    tl = ev.timeline
    if tl is None:
        return Rate(0, 0, 0.0)
    rows = [b for b in tl.buckets if (since is None or b.at >= since) and (until is None or b.at < until)]
    return Rate(sum(b.errors for b in rows), sum(b.total for b in rows), len(rows) * tl.bucket_seconds / 60)


def pct(x: float | None) -> str:
    return "unknown" if x is None else f"{x * 100:.1f}%"




# ---------------------------------------------------------------- external causes

_EXTERNAL = re.compile(
    r"timed? ?out|timeout|ReadTimeout|ConnectTimeout|ConnectionError|connection (?:refused|reset)|ECONNREFUSED|ECONNRESET|"
    r"ETIMEDOUT|EHOSTUNREACH|name resolution|getaddrinfo|NXDOMAIN|certificate|SSL|TLS handshake|\b429\b|rate.?limit|"
    r"quota|throttl|\b50[234]\b|bad gateway|service unavailable|upstream|third.?party|provider",
    re.IGNORECASE,
)
_CAPACITY = re.compile(
    r"out of memory|OOM|MemoryError|OutOfMemory|too many (?:connections|open files)|pool (?:exhausted|timeout)|"
    r"no space left|disk full|queue full|resource exhausted|deadlock|lock wait timeout|CPU throttl",
    re.IGNORECASE,
)


def external_signals(ev: Evidence, traces: TraceFacts | None = None) -> list[str]:
    """What reads like a dependency failing rather than our code: exception lines from the
    records since onset first (they name the host), then new error pattern templates."""
    out = [e for e, _ in (traces.exceptions.most_common(5) if traces else []) if _EXTERNAL.search(e)]
    out += [p.template for p in new_patterns(ev) if _EXTERNAL.search(p.template)]
    if not out:
        out += [p.template for p in new_patterns(ev) if _EXTERNAL.search(p.sample[:400])]
    return list(dict.fromkeys(out))[:5]


def ago(minutes: float) -> str:
    """A span a human reads at a glance: 7 min, 5 h, 3 days."""
    if abs(minutes) < 90:
        return f"{round(minutes)} min"
    if abs(minutes) < 48 * 60:
        return f"{round(minutes / 60)} h"
    return f"{round(minutes / 1440)} days"


def capacity_signals(ev: Evidence) -> list[str]:
    texts = [p.template for p in new_patterns(ev)] + [p.template for p in ev.patterns[:10]]
    return list(dict.fromkeys(t for t in texts if _CAPACITY.search(t)))[:5]


# ---------------------------------------------------------------- deploys


_FLAG_WORDS = re.compile(r"\b(?:feature[ _-]?flags?|flags?|toggle[sd]?|kill[ _-]?switch|rollout percentage|experiment)\b", re.I)
_CONFIG_WORDS = re.compile(r"\b(?:config(?:uration)?|configmap|settings?|env(?:ironment)? var(?:iable)?s?|secrets?)\b", re.I)


def flip_kind(d: Deploy, earlier: list[Deploy]) -> str | None:
    """"flag" or "config" for a deploy-log entry that shipped no new artifact (the release before
    it again, or no artifact at all) and says it changed a flag or configuration: undoing it
    means turning that back, and redeploying an older release would not."""
    if not d.description:
        return None
    same = [e for e in earlier if e.service == d.service and e.started_at < d.started_at and e.succeeded]
    last = same[-1] if same else None
    if d.sha or d.version:
        if last is None or not ((d.sha and d.sha == last.sha) or (not d.sha and d.version == last.version)):
            return None
    if _FLAG_WORDS.search(d.description):
        return "flag"
    return "config" if _CONFIG_WORDS.search(d.description) else None


def is_rollback(d: Deploy, earlier: list[Deploy]) -> bool:
    """A deploy that restores an older release: says so, or redeploys an older sha/version."""
    if d.rollback_of:
        return True
    if d.description and re.match(r"\s*(roll(?:ed|ing)?[ -]?back|revert)", d.description, re.IGNORECASE):
        return True
    same = [e for e in earlier if e.service == d.service and e.started_at < d.started_at and e.succeeded]
    if not same:
        return False
    last = same[-1]
    for attr in ("sha", "version"):
        mine = getattr(d, attr)
        if mine and mine != getattr(last, attr) and any(getattr(e, attr) == mine for e in same[:-1]):
            return True
    return False


def rollbacks_after(ev: Evidence, onset: datetime, service: str | None) -> list[Deploy]:
    out = []
    for i, d in enumerate(ev.deploys):
        if d.started_at >= onset and d.succeeded and _same_service(d, service) and is_rollback(d, ev.deploys[:i]):
            out.append(d)
    return out


def _same_service(d: Deploy, service: str | None) -> bool:
    return service is None or d.service is None or d.service == service


def rollback_target_for(deploys: list[Deploy], suspect: Deploy) -> Deploy | None:
    """The last successful deploy of the suspect's service strictly before it (failed deploys,
    releases a later rollback undid and redeploys of the suspect's own artifact skipped)."""
    from incident.tools.deploys import last_good_before

    return last_good_before(deploys, suspect)


def target_ref(d: Deploy) -> RollbackTarget:
    return RollbackTarget(id=d.id, sha=d.sha, at=d.started_at, service=d.service, version=d.version)


# ---------------------------------------------------------------- changes and the suspect

FilesFor = Callable[[Deploy], tuple[list[str], str]]  # a deploy's changed files and diff text


@dataclass
class Suspect:
    change: ChangeRef
    deploy: Deploy | None
    score: float
    files: list[str]
    matched_files: list[str]
    matched_symbols: list[str]
    flip: str | None = None  # "flag"/"config": the change switched something on, it shipped no code
    enabled: ChangeRef | None = None  # the release whose code the flip switched on, when the traces name it
    enabled_files: list[str] = field(default_factory=list)  # its files the traces run through


def _one_line(text: str) -> str:
    """Deploy descriptions and commit subjects are untrusted text: one line, no control characters."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def _minutes(onset: datetime | None, at: datetime) -> float | None:
    return None if onset is None else round((onset - at).total_seconds() / 60, 1)


def _deploy_ref(d: Deploy, onset: datetime | None) -> ChangeRef:
    version = f" ({d.version})" if d.version and d.version != d.id else ""
    status = "" if d.status in ("succeeded", "unknown") else f" [{d.status}]"
    what = f": {_one_line(d.description)}" if d.description else ""
    return ChangeRef(
        kind="deploy", id=d.id, sha=d.sha, service=d.service, at=d.started_at,
        summary=f"{d.service or 'deploy'} {d.id}{version}{status}{what}"[:200], minutes_before_onset=_minutes(onset, d.started_at),
    )


def _commit_ref(c: Commit, onset: datetime | None) -> ChangeRef:
    return ChangeRef(
        kind="commit", id=c.sha[:12], sha=c.sha, at=c.authored_at, summary=_one_line(f"{c.subject[:150]} ({c.author})"),
        minutes_before_onset=_minutes(onset, c.authored_at),
    )


def changes_before(ev: Evidence, onset: datetime | None, service: str | None) -> tuple[list[Deploy], list[Commit], list[ChangeRef]]:
    """Deploys and commits in the window before onset: the affected service's deploys first
    (newest first), then other services', then commits."""
    end = (onset + AFTER_ONSET_GRACE) if onset else ev.now
    start = ev.window_start or (end - timedelta(hours=6))
    deploys = [d for d in ev.deploys if start <= d.started_at <= end]
    mine = sorted([d for d in deploys if _same_service(d, service)], key=lambda d: d.started_at, reverse=True)
    others = sorted([d for d in deploys if not _same_service(d, service)], key=lambda d: d.started_at, reverse=True)
    commits = [c for c in ev.commits if start <= c.authored_at <= end]
    refs = [_deploy_ref(d, onset) for d in mine + others] + [_commit_ref(c, onset) for c in commits]
    return mine + others, commits, refs


def find_suspect(ev: Evidence, onset: datetime | None, service: str | None, files_for: FilesFor) -> Suspect | None:
    """The change most likely to have triggered the incident, or None when nothing correlates."""
    if onset is None:
        return None
    deploys, commits, _ = changes_before(ev, onset, service)
    facts = new_trace_facts(ev)
    best: Suspect | None = None
    # Reading a deploy's diff costs git processes: only the deploys nearest the onset get one.
    nearest = sorted(deploys, key=lambda d: abs((onset - d.started_at).total_seconds()))[:MAX_DIFFED_DEPLOYS]
    flips: list[Suspect] = []
    for d in deploys:
        earlier = [e for e in ev.deploys if e.started_at < d.started_at]
        if is_rollback(d, earlier):
            continue
        flip = flip_kind(d, earlier)
        files, diff = files_for(d) if d in nearest and flip is None else ([], "")
        cand = _score(d, _deploy_ref(d, onset), onset, service, files, diff, facts)
        if cand and flip:
            cand.flip = flip
            cand.change.evidence.append(f"it shipped no new code: a {flip} change recorded in the deploy history")
            flips.append(cand)
        if cand and (best is None or (cand.score, -abs(cand.change.minutes_before_onset or 0)) > (best.score, -abs(best.change.minutes_before_onset or 0))):
            best = cand
    if best is not None and best.flip is None and best.matched_files and (best.change.minutes_before_onset or 0) > CORRELATION_MINUTES:
        # Code that shipped long ago and only failed now: a flag or config flip just before the
        # onset is what switched it on.
        near = [f for f in flips if 0 <= (f.change.minutes_before_onset or 0) <= OTHER_SERVICE_MINUTES
                and f.deploy is not None and best.deploy is not None and f.deploy.service == best.deploy.service]
        best = near[0] if near else best
    if best is not None and best.flip and best.deploy is not None:
        _enabled_code(ev, best, onset, files_for, facts)
    if best is None and not ev.deploys:
        # Without a deploy history a commit is only a suspect when the traces name its files.
        for c in commits:
            matched = files_in_traces(c.files, facts)
            if matched:
                ref = _commit_ref(c, onset)
                ref.evidence = [f"changes {', '.join(matched[:3])}, named in the stack traces since onset",
                                f"authored {ref.minutes_before_onset} min before onset (no deploy history to say when it shipped)"]
                return Suspect(ref, None, 4.0, c.files, matched, [])
    return best


def _enabled_code(ev: Evidence, flip: Suspect, onset: datetime, files_for: FilesFor, facts: TraceFacts) -> None:
    """The release whose code a flip switched on: the service's last code release before it,
    however old, when the traces since the onset run through files it changed."""
    if flip.deploy is None:
        return
    earlier = [d for d in ev.deploys if d.started_at < flip.deploy.started_at and d.service == flip.deploy.service and d.succeeded]
    code = next((d for d in reversed(earlier) if not flip_kind(d, [e for e in ev.deploys if e.started_at < d.started_at])), None)
    if code is None:
        return
    matched = files_in_traces(files_for(code)[0], facts)
    if matched:
        flip.enabled, flip.enabled_files = _deploy_ref(code, onset), matched
        flip.change.evidence.append(f"it switched on code from {code.id} ({', '.join(matched[:2])}), which the traces since onset run through")


def _score(d: Deploy, ref: ChangeRef, onset: datetime, service: str | None, files: list[str], diff: str, facts: TraceFacts) -> Suspect | None:
    minutes = ref.minutes_before_onset or 0.0
    same = _same_service(d, service)
    matched = files_in_traces(files, facts)
    symbols = symbols_in_diff(diff, facts) if matched else []
    evidence: list[str] = []
    close = max(minutes, 0.0)
    time_score = 3.0 if close <= 15 else 2.0 if close <= CORRELATION_MINUTES else 1.0 if close <= 180 else 0.3
    when = f"{minutes:g} min before onset" if minutes >= 0 else f"{-minutes:g} min after onset (rollout still finishing)"
    evidence.append(f"deployed {when} ({iso(d.started_at)})")
    score = time_score + (2.0 if same else 0.0)
    if same and service:
        evidence.append(f"a deploy of the affected service {service}")
    if matched:
        score += 4.0
        naming = max(facts.files[t] for t in facts.files if any(path_matches(t, f) for f in matched))
        evidence.append(f"changed {', '.join(matched[:3])}, named in {naming} of {facts.records} sampled error traces since onset")
    if symbols:
        score += 1.0
        evidence.append(f"its diff touches {', '.join(symbols[:3])}, the function(s) in the traces")
    correlated = bool(matched) or (same and close <= CORRELATION_MINUTES) or (not same and close <= OTHER_SERVICE_MINUTES)
    if not correlated:
        return None
    if not d.succeeded:
        if not matched:
            return None  # a failed deploy did not ship, unless its files are what is failing
        score -= 3.0
        evidence.append(f"status {d.status}: a partial rollout may still have shipped it")
    ref.evidence = evidence
    return Suspect(ref, d, score, files, matched, symbols)


# ---------------------------------------------------------------- endpoints


def _ratio(e: EndpointStat) -> float:
    return e.errors / e.total if e.total else 0.0


def affected_and_working(ev: Evidence) -> tuple[list[str], list[str]]:
    """Endpoints whose error share rose since the onset, and those that kept working."""
    before = {e.name: e for e in ev.endpoints_before}
    affected: list[tuple[float, str]] = []
    working: list[str] = []
    for e in ev.endpoints_after:
        b = before.get(e.name)
        base = _ratio(b) if b else 0.0
        r = _ratio(e)
        if e.errors >= 3 and r >= max(2 * base, base + 0.02):
            affected.append((r, f"{e.name} ({e.errors}/{e.total} failing, {pct(r)})"))
        elif e.total >= 5 and r <= base + 0.01:
            working.append(f"{e.name} ({e.errors}/{e.total} errors, as before)")
    return [a for _, a in sorted(affected, reverse=True)], working
