"""What kind of failure the evidence shows beyond "a change broke it", and the series shapes that mislead.

Failure families are the messages the common runtimes, drivers and proxies print when a resource
runs out (memory, disk, database connections, workers), when a dependency's certificate or name
resolution fails, or when the database schema and the code disagree. They are read from the error
records since the onset, so a family seen once in a background error does not decide anything.

Series shapes: recurring bursts (an instance that dies and restarts looks recovered between
kills), a collapse in log volume (a service that cannot start logs less, not better) and a
gradual climb with no step (its "onset" is only where a threshold was crossed).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from incident.clock import iso
from incident.engines.traces import new_patterns, raised_line, sample_texts
from incident.models import ErrorTimeline, Evidence, LatencyProfile

Kind = Literal["memory", "disk", "db", "schema", "tls", "dns", "overload", "startup", "dependency"]
CAPACITY: frozenset[str] = frozenset({"memory", "disk", "db", "overload"})
EXTERNAL: frozenset[str] = frozenset({"tls", "dns", "dependency"})

# Most specific first: a pool timeout is a database problem before it is a timeout.
_FAMILIES: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("memory", re.compile(
        r"OutOfMemoryError|\bMemoryError\b|OOMKilled|out of memory|Cannot allocate memory|GC overhead limit|heap out of memory|"
        r"memory limit exceeded|exit code 137|\bENOMEM\b", re.I)),
    ("disk", re.compile(r"No space left on device|ENOSPC|Errno 28\b|disk (?:is )?full|Disk quota exceeded|EDQUOT|not enough space on the disk", re.I)),
    ("schema", re.compile(
        r"UndefinedColumn|UndefinedTable|column \S+ does not exist|relation \S+ does not exist|no such (?:column|table)|"
        r"Unknown column|Table '\S+' doesn't exist|ER_BAD_FIELD_ERROR|ER_NO_SUCH_TABLE|Invalid column name|Invalid object name", re.I)),
    ("db", re.compile(
        r"QueuePool limit|too many (?:clients|connections)|remaining connection slots|connection pool (?:exhausted|is full)|"
        r"pool exhausted|Connection is not available, request timed out|timeout waiting for (?:a )?(?:idle )?(?:connection|object)|"
        r"lock wait timeout|lock timeout|LockNotAvailable|could not obtain lock|deadlock (?:detected|found)|statement timeout|"
        r"QueryCanceled|max_connections|ER_CON_COUNT_ERROR", re.I)),
    ("tls", re.compile(
        r"x509:|certificate (?:has )?expired|certificate verify failed|CERTIFICATE_VERIFY_FAILED|CERT_HAS_EXPIRED|"
        r"SSLHandshakeException|PKIX path|unable to verify the first certificate|tls: (?:handshake failure|bad certificate)|"
        r"certificate is not (?:yet )?valid|self.signed certificate", re.I)),
    ("dns", re.compile(
        r"no such host|server misbehaving|SERVFAIL|NXDOMAIN|ENOTFOUND|EAI_AGAIN|name resolution|Name or service not known|"
        r"UnknownHostException|getaddrinfo|could not resolve host|nodename nor servname", re.I)),
    ("overload", re.compile(
        r"queue (?:is )?full|server overloaded|too many requests|rate.?limited|RejectedExecutionException|worker timeout|"
        r"waiting for a worker|backpressure|load shed|request rejected|\b429\b", re.I)),
    ("startup", re.compile(
        r"failed to boot|failed to start|APPLICATION FAILED TO START|startup (?:failed|probe failed)|Back-off restarting|"
        r"CrashLoopBackOff|exited with code [1-9]|^panic: ", re.I | re.M)),
    ("dependency", re.compile(
        r"timed? ?out|timeout|connection (?:refused|reset)|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|bad gateway|"
        r"service unavailable|upstream|\b50[234]\b", re.I)),
)
_HEAD_TOKEN = re.compile(
    r"^(?:\d{4}-\d\d-\d\d[T ][\d:.,]+(?:Z|[+-]\d\d:?\d\d)?|\d\d:\d\d:\d\d[\d.,]*|\[[^\]]{1,60}\]|"
    r"(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|SEVERE)\b:?|[\w.-]+=(?:\"[^\"]*\"|\S+))\s*"
)


@dataclass
class Signal:
    kind: Kind
    records: int  # error records since the onset that show it
    of: int  # error records read
    example: str  # one message that shows it, without the line's timestamp/level/key=value head

    @property
    def share(self) -> float:
        return self.records / self.of if self.of else 0.0


def message_of(line: str) -> str:
    """A log line's message: the timestamp, level, [tags] and key=value pairs in front cut off."""
    s = line.strip()
    for _ in range(40):
        m = _HEAD_TOKEN.match(s)
        if not m or not m.group(0):
            break
        s = s[m.end():]
    return " ".join(s.split())[:240] or " ".join(line.split())[:240]


def _family(text: str) -> tuple[Kind, str] | None:
    # The exception line names the failure best; a request line's status=504 only echoes it.
    raised = raised_line(text)
    lines = ([raised] if raised else []) + text.splitlines()
    for kind, rx in _FAMILIES:
        for line in lines:
            if rx.search(line):
                return kind, message_of(line)
    return None


def failure_signals(ev: Evidence) -> list[Signal]:
    """Families seen in the error records since the onset, the most common first."""
    texts = sample_texts(ev) or [p.sample or p.template for p in new_patterns(ev)]
    found: dict[Kind, Signal] = {}
    examples: dict[Kind, Counter[str]] = {}
    for text in texts:
        hit = _family(text)
        if hit is None:
            continue
        kind, example = hit
        examples.setdefault(kind, Counter())[example] += 1
        if kind in found:
            found[kind].records += 1
        else:
            found[kind] = Signal(kind, 1, len(texts), example)
    for kind, sig in found.items():
        sig.example = examples[kind].most_common(1)[0][0]
    order = [k for k, _ in _FAMILIES]
    return sorted(found.values(), key=lambda s: (-s.records, order.index(s.kind)))


def dominant(ev: Evidence) -> Signal | None:
    """The family most error records since the onset show, when it is at least a quarter of them."""
    signals = failure_signals(ev)
    return signals[0] if signals and signals[0].share >= 0.25 else None


# ---------------------------------------------------------------- series shapes


@dataclass
class Volume:
    before: float  # log records per minute before the onset (minutes that had any)
    after: float  # per minute since the onset, quiet minutes included

    @property
    def ratio(self) -> float:
        return self.after / self.before if self.before else 1.0


SPIKE = 2.5  # this many times the usual records per minute is a traffic spike
COLLAPSE = 0.25  # under this share of the usual volume, the service has nearly stopped


def volume(tl: ErrorTimeline | None, onset: datetime | None) -> Volume | None:
    if tl is None or onset is None or not any(b.total for b in tl.buckets):
        return None
    per = tl.bucket_seconds / 60
    before = [b.total for b in tl.buckets if onset - timedelta(hours=1) <= b.at < onset and b.total > 0]
    after = [b for b in tl.buckets if b.at >= onset]
    seen = [i for i, b in enumerate(after) if b.total > 0]
    if len(before) < 5 or not seen:
        return None
    # Up to the last minute with a record: a file not yet flushed is no collapse.
    span = after[: seen[-1] + 1]
    return Volume(sum(before) / len(before) / per, sum(b.total for b in span) / len(span) / per)


def _elevated(tl: ErrorTimeline) -> list[bool]:
    base = tl.baseline_error_ratio or 0.0
    base_pm = tl.baseline_errors_per_min * tl.bucket_seconds / 60
    out = []
    for b in tl.buckets:
        if b.total:
            out.append(b.total >= 5 and b.errors / b.total >= max(2 * base, base + 0.02))
        else:
            out.append(b.errors >= max(3.0, 3 * base_pm))
    return out


def bursts(tl: ErrorTimeline, onset: datetime) -> list[tuple[datetime, datetime]]:
    """Episodes of elevated minutes since the onset (gaps of up to 2 buckets bridged), [start, end)."""
    step = timedelta(seconds=tl.bucket_seconds)
    out: list[tuple[datetime, datetime]] = []
    for b, high in zip(tl.buckets, _elevated(tl), strict=True):
        if b.at < onset or not high:
            continue
        if out and b.at - out[-1][1] <= 2 * step:
            out[-1] = (out[-1][0], b.at + step)
        else:
            out.append((b.at, b.at + step))
    return out


@dataclass
class Recurrence:
    episodes: int
    period_minutes: float
    quiet_minutes: float  # since the last episode ended
    ratio: float | None  # the error share within the bursts: what a user meets when one is on


def recurring(tl: ErrorTimeline | None, onset: datetime | None, now: datetime) -> Recurrence | None:
    """Errors that keep coming back (a sawtooth of crashes and restarts), with the last quiet
    spell no longer than the usual gap between bursts: calm now is not recovery."""
    if tl is None or onset is None or tl.still_elevated:
        return None  # still elevated needs no second opinion; the trap is a calm spell between bursts
    eps = bursts(tl, onset)
    if len(eps) < 3:
        return None
    gaps = sorted((b[0] - a[0]).total_seconds() / 60 for a, b in zip(eps, eps[1:], strict=False))
    period = gaps[len(gaps) // 2]
    quiet = (now - eps[-1][1]).total_seconds() / 60
    if period < 5 or quiet > 1.5 * period:
        return None
    # Between bursts the service must be back to normal; a noisy climb crossing the line now and
    # then is no sawtooth, and minutes without records say nothing.
    calm = [b for b in tl.buckets if eps[0][0] <= b.at < eps[-1][1] and not any(a <= b.at < e for a, e in eps)]
    calm_total = sum(b.total for b in calm)
    base = tl.baseline_error_ratio or 0.0
    if not calm_total or sum(b.errors for b in calm) / calm_total > max(1.5 * base, base + 0.005):
        return None
    inside = [b for b in tl.buckets if any(a <= b.at < e for a, e in eps)]
    total = sum(b.total for b in inside)
    return Recurrence(len(eps), period, max(0.0, quiet), sum(b.errors for b in inside) / total if total else None)


def gradual_start(tl: ErrorTimeline | None, onset: datetime | None, block_minutes: int = 15) -> datetime | None:
    """Where a slow climb in the error share began, when the onset is only where it crossed the
    threshold: walking back from the onset, blocks whose share is clearly over the earliest
    half hour's. None when the rise has a clear step (nothing creeping before the onset)."""
    if tl is None or onset is None or not any(b.total for b in tl.buckets):
        return None
    rows = [b for b in tl.buckets if b.at < onset and b.total > 0]
    if len(rows) < 4 * block_minutes:
        return None
    start = rows[0].at
    blocks: list[tuple[datetime, int, int]] = []
    for b in rows:
        k = int((b.at - start).total_seconds() // (block_minutes * 60))
        while len(blocks) <= k:
            blocks.append((start + timedelta(minutes=block_minutes * len(blocks)), 0, 0))
        at, e, t = blocks[k]
        blocks[k] = (at, e + b.errors, t + b.total)
    e0, t0 = blocks[0][1] + blocks[1][1], blocks[0][2] + blocks[1][2]
    p0 = max(e0 / t0 if t0 else 0.0, 0.0005)
    began = None
    full = sorted(t for _, _, t in blocks)[len(blocks) // 2]
    for at, e, t in reversed(blocks[2:]):
        if t < max(20, full // 2):
            continue  # a block cut short by the onset or a gap in the logs says little either way
        if e / t < max(1.5 * p0, p0 + 0.003) or (e - t * p0) < 2 * (t * p0) ** 0.5:
            break
        began = at
    if began is None or (onset - began).total_seconds() < 30 * 60:
        return None
    return began


# ---------------------------------------------------------------- latency

LATENCY_SEV2 = 10.0  # p95 at this multiple of its baseline (and over a second): requests time out for many users


def latency_rise(ev: Evidence) -> LatencyProfile | None:
    """The latency profile when it shows a sustained p95 rise (tools/latency.py: 3x for 5 min)."""
    lat = ev.latency
    return lat if lat is not None and lat.onset is not None and lat.baseline_p95_ms else None


def latency_ratio(lat: LatencyProfile) -> float:
    worst = lat.recent_p95_ms if lat.still_elevated else lat.peak_p95_ms
    return (worst or 0.0) / max(lat.baseline_p95_ms or 0.0, 1e-3)


def slowed(lat: LatencyProfile) -> list[str]:
    """Endpoints whose p95 rose since the latency onset: 'POST /api/checkout (p95 1.9 s vs 120 ms)'."""
    from incident.tools.latency import RISE, human_ms

    out = []
    for e in lat.endpoints:
        base = e.baseline_p95_ms or lat.baseline_p95_ms
        if e.p95_ms is not None and base and e.p95_ms >= RISE * base:
            out.append(f"{e.name} (p95 {human_ms(e.p95_ms)} vs {human_ms(base)})")
    return out


def latency_line(lat: LatencyProfile) -> str:
    """'p95 1.9 s vs 120 ms baseline on /api/checkout': the size of a slowdown in one phrase."""
    from incident.tools.latency import RISE, human_ms

    worst = lat.recent_p95_ms if lat.still_elevated else lat.peak_p95_ms
    names = [e.name for e in lat.endpoints
             if e.p95_ms is not None and e.p95_ms >= RISE * (e.baseline_p95_ms or lat.baseline_p95_ms or 0.0)]
    where = f" on {', '.join(names[:3])}" if names else ""
    when = "" if lat.still_elevated else f" at its peak ({iso(lat.peak_at)})" if lat.peak_at else " at its peak"
    return f"p95 {human_ms(worst)}{when} vs {human_ms(lat.baseline_p95_ms)} baseline{where}"
