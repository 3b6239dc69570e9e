"""Request durations read from the logs: per-minute p50/p95/p99, the baseline and the onset of
a sustained rise, and (over the minutes around that rise) the same per endpoint.

Where a duration is: one extractor per file, chosen from its first 64 KB — a duration key
(`duration_ms=`, `"latency": "1.2s"`, nginx `request_time=`, …) or a positional access-log
field (ALB's three timings, HAProxy's `Tr/Tw/Tc/Tr/Ta`, Envoy/Istio `%DURATION%`, a number after
a combined log's last quoted field: nginx `$request_time` with a dot, Apache `%D` without).
A file whose services log durations under several keys gets the most frequent one: every line
matched by a single literal-led regex keeps the scan cheap.

Percentiles come from a sketch of fixed log-spaced buckets (each 4% wide, so any percentile is
within 2% of the exact one); no value is kept. Minutes are assigned by bisecting each chunk at
minute boundaries (logs are in time order, as the window bisection already assumes), so only a
few dozen lines per chunk have their time parsed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from incident.models import EndpointLatency, LatencyMinute, LatencyProfile
from incident.tools import logscan
from incident.tools.timestamps import LineParser

GAMMA = 1.04
_LOG_GAMMA = math.log(GAMMA)
MIN_MS = 0.001  # below a microsecond is clock noise; it shares the lowest bucket
MAX_MS = 3.6e6  # an hour: anything longer is not a request's duration
MIN_PER_MINUTE = 5  # fewer requests than this in a minute give no percentile worth comparing
RISE = 3.0  # p95 at this multiple of the baseline is a rise ...
RISE_FLOOR_MS = 50.0  # ... and at least this much slower: 2 ms -> 6 ms hurts nobody
SUSTAIN = 5  # ... for this many of the next SUSTAIN + 1 minutes with data
MIN_BASELINE = 5  # minutes of data before a rise can be judged against them
BACK = 2.0  # under this multiple of the baseline the latency is back (hysteresis below RISE)
MAX_ENDPOINTS = 2000
MINUTE_BYTES = 32 * 1024  # a busier minute is sampled (see _spans): ~250 access-log lines
SPANS = 8
_CACHE_CAP = 50_000

Sketch = dict[int, int]  # bucket index -> count

# ---------------------------------------------------------------- units and keys

_UNIT_MS = {b"ns": 1e-6, b"us": 1e-3, "µs".encode(): 1e-3, "μs".encode(): 1e-3, b"ms": 1.0, b"s": 1000.0,
            b"m": 60_000.0, b"h": 3_600_000.0, b"": 1.0}
_GO_PART = re.compile("([0-9]+(?:\\.[0-9]+)?)(ns|us|µs|μs|ms|s|m|h)".encode())
_KEY_UNITS = (
    (re.compile(r"(?:_|\b|(?<=[a-z]))(?:ms|millis|milliseconds|msec)$|Ms$|Millis$", re.I), 1.0),
    (re.compile(r"(?:_|(?<=[a-z]))(?:us|micros|microseconds|usec)$|Us$|Micros$", re.I), 1e-3),
    (re.compile(r"(?:_|(?<=[a-z]))(?:ns|nanos|nanoseconds)$|Ns$|Nanos$", re.I), 1e-6),
    (re.compile(r"(?:_|(?<=[a-z]))(?:s|sec|secs|seconds)$|Seconds$|Secs$", re.I), 1000.0),
)
_SECONDS_KEYS = frozenset(("request_time", "upstream_response_time", "rt", "urt", "upstream_time"))
# Preference when a sample has several: the request's own time before an upstream's.
_KEYS = (
    "request_time", "duration_ms", "durationMs", "duration", "latency_ms", "latencyMs", "latency", "response_time_ms",
    "responseTimeMs", "response_time", "responseTime", "elapsed_ms", "elapsedMs", "elapsed", "took_ms", "took",
    "time_taken", "time-taken", "request_duration", "request_duration_ms", "duration_seconds", "duration_us",
    "duration_ns", "rt", "upstream_response_time", "urt", "event.duration",
)
_ANY_KEY = re.compile(
    rb'(?<![\w.-])"?(' + b"|".join(re.escape(k.encode()) for k in sorted(_KEYS, key=len, reverse=True)) + rb')"?[ \t]*[:=\[]'
)
_VALUE = rb'[ \t]*"?([0-9][0-9.]*(?:[a-z\xc2\xb5\xce\xbc]+(?:[0-9][0-9.]*[a-z\xc2\xb5\xce\xbc]+)*)?)'


def key_unit(key: str) -> float | None:
    """Milliseconds per unit a bare number under `key` is in; None when the name does not say."""
    if key in _SECONDS_KEYS:
        return 1000.0
    if key == "event.duration":
        return 1e-6  # Elastic Common Schema: nanoseconds
    for rx, unit in _KEY_UNITS:
        if rx.search(key):
            return unit
    return None


def parse_duration(token: bytes, unit_ms: float) -> float | None:
    """A duration token in ms: `0.123` (in `unit_ms`), `123ms`, `1.2s`, `350µs`, Go's `1m2.5s`."""
    try:
        return float(token) * unit_ms
    except ValueError:
        pass
    total, pos = 0.0, 0
    for m in _GO_PART.finditer(token):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _UNIT_MS[m.group(2)]
        pos = m.end()
    return total if pos == len(token) and pos else None


# ---------------------------------------------------------------- the sketch


def bucket_of(ms: float) -> int:
    return math.ceil(math.log(max(ms, MIN_MS)) / _LOG_GAMMA)


def value_of(index: int) -> float:
    """The bucket's geometric middle: within sqrt(GAMMA) of every value in it."""
    return GAMMA ** (index - 0.5)


def quantiles(sketch: Sketch, qs: Iterable[float]) -> list[float | None]:
    """Nearest-rank quantiles (the ceil(q*n)-th smallest value) of a sketch."""
    n = sum(sketch.values())
    if n == 0:
        return [None for _ in qs]
    keys = sorted(sketch)
    out: list[float | None] = []
    for q in qs:
        rank, seen = max(1, math.ceil(q * n)), 0
        for k in keys:
            seen += sketch[k]
            if seen >= rank:
                out.append(value_of(k))
                break
    return out


def merge(into: Sketch, other: Sketch) -> None:
    for k, v in other.items():
        into[k] = into.get(k, 0) + v


# ---------------------------------------------------------------- extractors


@dataclass(frozen=True)
class Extractor:
    """How one file says a request's duration: a regex whose groups are summed, in `unit_ms`."""

    label: str
    rx: re.Pattern[bytes]
    unit_ms: float
    skip_negative: bool = False  # ALB writes -1 for a request that never reached a target

    def value(self, m: re.Match[bytes], cache: dict[bytes, int]) -> int | None:
        token = m.group(0)
        hit = cache.get(token)
        if hit is not None:
            return hit
        total = 0.0
        for g in m.groups():
            if g is None:
                continue
            if self.skip_negative and g.startswith(b"-"):
                return None
            ms = parse_duration(g, self.unit_ms)
            if ms is None:
                return None
            total += ms
        if total > MAX_MS:
            return None
        b = bucket_of(total)
        if len(cache) < _CACHE_CAP:
            cache[token] = b
        return b


_ALB = re.compile(rb"(?m)^(?:http|https|h2|grpcs|ws|wss) \d{4}-\d\d-\d\dT\S+ \S+ \S+ \S+ (-?[0-9.]+) (-?[0-9.]+) (-?[0-9.]+) (?:\d{3}|-) ")
_HAPROXY = re.compile(rb"\] \S+ \S+ -?\d+/-?\d+/-?\d+/-?\d+/\+?(\d+) \d{3} ")
_ENVOY = re.compile(rb'(?m)^\[[^\]\n]{10,40}\] "[A-Z]+ [^"\n]*" \d{3} \S+ (?:\S+ \S+ "[^"\n]*" )?\d+ \d+ (\d+) ')
_TAIL_SECONDS = re.compile(rb'(?m)HTTP/[0-9.]+" \d{3} [^\n]*" (\d+\.\d+)[^"\n]*$')
_TAIL_MICROS = re.compile(rb'(?m)HTTP/[0-9.]+" \d{3} [^\n]*" (\d+)(?:[ \t][^"\n]*)?\r?$')
_POSITIONAL = (
    Extractor("ALB request+target+response processing time", _ALB, 1000.0, skip_negative=True),
    Extractor("HAProxy Ta/Tt (ms)", _HAPROXY, 1.0),
    Extractor("Envoy/Istio %DURATION% (ms)", _ENVOY, 1.0),
    Extractor("access log $request_time (s)", _TAIL_SECONDS, 1000.0),
    Extractor("access log %D (µs)", _TAIL_MICROS, 1e-3),
)


_ECS = re.compile(rb'"ecs\.version"|"ecs"[ \t]*:[ \t]*\{')


def _key_extractor(key: str, values: list[bytes], *, ecs: bool = False) -> Extractor:
    unit = key_unit(key)
    label = f"{key} ({'unit from the value or the name' if unit is not None else 'ms unless the values say s'})"
    if unit is None and ecs and key == "duration":
        unit, label = 1e-6, "event.duration (ns, Elastic Common Schema)"  # ECS fixes event.duration in ns
    if unit is None:
        # `duration`, `latency`, `elapsed`, `took`: Envoy, Elasticsearch and most middleware log
        # ms; zap's production encoder logs float seconds. Fractions that are all small say s.
        bare = sorted(float(v) for v in values if re.fullmatch(rb"[0-9.]+", v) and v.count(b".") <= 1)
        seconds = bool(bare) and all(b"." in v for v in values if re.fullmatch(rb"[0-9.]+", v)) and bare[len(bare) // 2] < 2
        unit = 1000.0 if seconds else 1.0
        label = f"{key} ({'s' if seconds else 'ms'}, by the values)"
    rx = re.compile(rb'(?<![\w.-])"?' + re.escape(key.encode()) + rb'"?[ \t]*[:=\[]' + _VALUE)
    return Extractor(label, rx, unit)


def choose(sample: list[bytes]) -> Extractor | None:
    """The extractor that reads the most of the sampled lines (None: no durations here)."""
    text = b"\n".join(sample)
    counts: dict[str, list[bytes]] = {}
    for m in _ANY_KEY.finditer(text):
        key = m.group(1).decode()
        v = re.match(_VALUE, text[m.end() : m.end() + 64])
        if v is not None:
            counts.setdefault(key, []).append(v.group(1))
    best: tuple[int, int, Extractor] | None = None
    for key, values in counts.items():
        cand = (len(values), -_KEYS.index(key), _key_extractor(key, values, ecs=_ECS.search(text) is not None))
        best = cand if best is None or cand[:2] > best[:2] else best
    for i, ex in enumerate(_POSITIONAL):
        n = sum(1 for _ in ex.rx.finditer(text))
        if n and (best is None or n > best[0]):
            best = (n, -100 - i, ex)
    return best[2] if best is not None and best[0] >= 2 else None


# ---------------------------------------------------------------- the scan


def _minute_cuts(buf: bytes, parser: LineParser) -> tuple[list[int], list[float]]:
    """Offsets in `buf` where each minute's lines begin, and those minutes (epoch seconds)."""
    first = logscan.stamp_near(buf, parser, 0, len(buf))  # type: ignore[arg-type]  # bytes has the mmap API used
    if first is None:
        return [], []
    m = first[0] // 60 * 60
    offsets, minutes = [0], [m]
    while len(offsets) < 100_000:
        at = logscan.bisect_offset(buf, len(buf), parser, m + 60)  # type: ignore[arg-type]
        found = logscan.stamp_near(buf, parser, at, len(buf)) if at < len(buf) else None  # type: ignore[arg-type]
        if found is None:
            break
        # Jump to the minute the next line is in: quiet hours cost one step, not one per minute.
        m = max(found[0] // 60 * 60, m + 60)
        offsets.append(at)
        minutes.append(m)
    return offsets, minutes


def scan(
    paths: list[Path], *, since: datetime | None, until: datetime | None, now: datetime,
    endpoints: bool = False, only_endpoint: str | None = None,
) -> tuple[dict[float, Sketch], dict[str, Sketch], list[str]]:
    """Per-minute sketches over [since, until), per-endpoint sketches (when asked) and what was read."""
    from incident.tools.endpoints import endpoint_of

    lo = since.timestamp() if since else None
    hi = until.timestamp() if until else None
    per_minute: dict[float, Sketch] = {}
    per_endpoint: dict[str, Sketch] = {}
    labels: list[str] = []
    for path in paths:
        sample = logscan.sample(path)
        ex = choose(sample)
        parser = logscan.parser_for(path, now, sample)
        if ex is None or parser.style is None:
            continue
        labels.append(f"{logscan.display(path)}: {ex.label}")
        cache: dict[bytes, int] = {}
        start, end = logscan.window_offsets(path, parser, lo, hi)
        for _, chunk in logscan.iter_chunks(path, start, end, cri=parser.cri):
            for line_at, minute, b in _chunk_values(chunk, parser, ex, cache, lo, hi):
                sk = per_minute.setdefault(minute, {})
                if endpoints or only_endpoint:
                    nl = chunk.find(b"\n", line_at)
                    name = endpoint_of(chunk[line_at : nl if nl >= 0 else len(chunk)]) or "(none)"
                    if only_endpoint and name != only_endpoint:
                        continue
                    if endpoints and (name in per_endpoint or len(per_endpoint) < MAX_ENDPOINTS):
                        esk = per_endpoint.setdefault(name, {})
                        esk[b] = esk.get(b, 0) + 1
                sk[b] = sk.get(b, 0) + 1
    return {m: s for m, s in per_minute.items() if s}, per_endpoint, labels


def _chunk_values(
    chunk: bytes, parser: LineParser, ex: Extractor, cache: dict[bytes, int], lo: float | None, hi: float | None,
) -> Iterator[tuple[int, float, int]]:
    offsets, minutes = _minute_cuts(chunk, parser)
    ends = [*offsets[1:], len(chunk)]
    for a, b, minute in zip(offsets, ends, minutes, strict=True):
        if (lo is not None and minute + 60 <= lo) or (hi is not None and minute >= hi):
            continue
        for s, e in _spans(chunk, a, b):
            last_line = -1
            for m in ex.rx.finditer(chunk, s, e):
                line_at = chunk.rfind(b"\n", 0, m.start()) + 1
                if line_at == last_line:
                    continue  # one duration per request
                v = ex.value(m, cache)
                if v is not None:
                    last_line = line_at
                    yield line_at, minute, v


def _spans(buf: bytes, a: int, b: int) -> list[tuple[int, int]]:
    """[a, b) whole, or SPANS evenly spaced runs of whole lines totalling about MINUTE_BYTES: a
    busy minute's percentiles from a few hundred requests spread over it, at a bounded cost."""
    if b - a <= MINUTE_BYTES:
        return [(a, b)]
    step, width = (b - a) // SPANS, MINUTE_BYTES // SPANS
    out = []
    for k in range(SPANS):
        s = a + k * step
        if k:
            s = buf.find(b"\n", s, b) + 1 or b
        e = buf.find(b"\n", min(b, s + width), b)
        out.append((s, b if e < 0 else e + 1))
    return out


# ---------------------------------------------------------------- the profile


def _median(xs: list[float]) -> float | None:
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else None


def _onset(rows: list[LatencyMinute]) -> tuple[int | None, float | None]:
    """Index of the first minute of a sustained p95 rise, and the baseline p95 before it."""
    p95 = [r.p95_ms or 0.0 for r in rows]
    for i in range(MIN_BASELINE, len(rows)):
        base = _median(p95[max(0, i - 60) : i]) or 0.0
        limit = max(base * RISE, base + RISE_FLOOR_MS)
        if p95[i] < limit:
            continue
        ahead = p95[i : i + SUSTAIN + 1]
        need = SUSTAIN if len(ahead) > SUSTAIN else max(3, len(ahead) - 1)
        if len(ahead) >= 3 and sum(x >= limit for x in ahead) >= need:
            return i, base
    return None, _median(p95)


def profile(
    paths: list[Path], *, since: datetime | None, until: datetime | None, now: datetime,
    endpoint: str | None = None,
) -> LatencyProfile:
    """Per-minute latency percentiles over [since, until), the baseline p95 and the onset of a
    sustained rise (p95 at RISE x baseline for SUSTAIN minutes); endpoints are compared after
    by `endpoint_latency` (a second, narrower pass)."""
    sketches, _, labels = scan(paths, since=since, until=until, now=now, only_endpoint=endpoint)
    rows = []
    for minute in sorted(sketches):
        sk = sketches[minute]
        n = sum(sk.values())
        p50, p95, p99 = quantiles(sk, (0.5, 0.95, 0.99)) if n >= MIN_PER_MINUTE else (None, None, None)
        rows.append(LatencyMinute(at=datetime.fromtimestamp(minute, UTC), count=n, p50_ms=_r(p50), p95_ms=_r(p95), p99_ms=_r(p99)))
    out = LatencyProfile(start=since, end=until, minutes=rows, requests=sum(r.count for r in rows), sources=labels,
                         endpoint=endpoint)
    full = [r for r in rows if r.p95_ms is not None]
    if not full:
        return out
    i, base = _onset(full)
    before = full[:i] if i is not None else full
    out.baseline_p95_ms = _r(base)
    out.baseline_p50_ms = _r(_median([r.p50_ms or 0.0 for r in before]))
    peak = max(full[i:] if i is not None else full, key=lambda r: r.p95_ms or 0.0)
    out.peak_p95_ms, out.peak_at = peak.p95_ms, peak.at
    recent = full[-3:]
    out.recent_p95_ms = _r(_median([r.p95_ms or 0.0 for r in recent]))
    out.recent_p50_ms = _r(_median([r.p50_ms or 0.0 for r in recent]))
    if i is None or base is None:
        return out
    out.onset = full[i].at
    back = max(base * BACK, base + RISE_FLOOR_MS / 2)
    out.still_elevated = (out.recent_p95_ms or 0.0) >= back
    if not out.still_elevated:
        # The first minute of the run under `back` that lasts to the end of the window.
        j = len(full)
        while j > i + 1 and (full[j - 1].p95_ms or 0.0) < back:
            j -= 1
        out.recovered_at = full[j].at if j < len(full) else None
    return out


def endpoint_latency(
    paths: list[Path], *, split: datetime, since: datetime, until: datetime, now: datetime, limit: int = 10,
) -> list[EndpointLatency]:
    """p50/p95 per endpoint in [split, until) against [since, split): the ones that slowed most first."""
    _, after, _ = scan(paths, since=split, until=until, now=now, endpoints=True)
    _, before, _ = scan(paths, since=since, until=split, now=now, endpoints=True) if since < split else ({}, {}, [])
    out = []
    for name, sk in after.items():
        n = sum(sk.values())
        if n < MIN_PER_MINUTE:
            continue
        p50, p95 = quantiles(sk, (0.5, 0.95))
        b = before.get(name, {})
        nb = sum(b.values())
        bp95 = quantiles(b, (0.95,))[0] if nb >= MIN_PER_MINUTE else None
        out.append(EndpointLatency(name=name, count=n, p50_ms=_r(p50), p95_ms=_r(p95), baseline_p95_ms=_r(bp95),
                                   baseline_count=nb))
    out.sort(key=lambda e: (-((e.p95_ms or 0.0) / max(e.baseline_p95_ms or e.p95_ms or 1.0, 1e-6)), -e.count, e.name))
    return out[:limit]


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def human_ms(ms: float | None) -> str:
    """120 ms, 1.9 s, 2.5 min: how an operator says a latency."""
    if ms is None:
        return "unknown"
    if ms < 1:
        return f"{ms * 1000:.0f} µs"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return f"{ms / 60_000:.1f} min"
