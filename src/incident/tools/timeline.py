"""Errors per minute over a window, the baseline, the onset and whether it is still going on.

How it stays fast on a 1 GB log with bounded memory:
- the `--since`/`--until` window is reached by bisecting the file's time order (mmap, a few dozen
  line reads), never by scanning from the start;
- error candidates come from `rg -o -b` with a per-file literal-led pattern (or a bytes regex over
  8 MB chunks without rg, for gzip and stdin); only candidate lines are parsed in Python;
- per-minute totals are counted without a per-line loop: a region of a chunk whose first and last
  record fall in the same minute is counted with one `bytes.count` of that minute's prefix
  (or of newlines); regions spanning minutes are split in two until they do.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from incident.models import ErrorTimeline, TimelineBucket
from incident.tools import logscan
from incident.tools.logscan import LINE_CAP, STDIN, is_error, level_of
from incident.tools.timestamps import LineParser, to_datetime

_SMALL = 4096
_CHUNK = 2 << 20  # smaller than the default: each chunk is copied a few times, and memory is capped
# Every alternative starts with a literal: Python's regex engine then skips ahead on a set of
# first bytes (7x faster than with a leading class such as [Pp]), and rg uses its SIMD prefilter.
_TEXT_TOKENS = r"ERROR|FATAL|SEVERE|CRIT|EMERG|ALERT|PANIC|Panic|panic|Exception|Traceback|Error"
_BRACKET = r"error\]|crit\]|alert\]|emerg\]"
_ACCESS = r'" 5[0-9][0-9] '
_KV_VALUES = r"\W{1,4}(?:[Ee]rr|ERR|[Ee]ror|EROR|[Ff]atal|FATAL|[Cc]rit|CRIT|[Ee]merg|EMERG|[Aa]lert|ALERT|[Pp]anic|PANIC|dpanic|50|60)"
_KV = "|".join(k + _KV_VALUES for k in ("level", "Level", "LEVEL", "lvl", "severity", "Severity", "SEVERITY"))


def candidate_pattern(sample: list[bytes]) -> str:
    """The prefilter for error lines in one file, led by literals (rg and Python both scan them
    far faster than a pattern starting with a class). It over-matches; `is_error` decides."""
    parts = [_TEXT_TOKENS]
    blob = b"\n".join(sample)
    if re.search(rb'"[A-Z]{3,10} [^"]*" \d{3} ', blob):
        parts.append(_ACCESS)
    if re.search(rb"\[(?:\w+:)?(?:error|warn|notice|info|debug)\]", blob):
        parts.append(_BRACKET)
    if re.search(rb'(?i)(?:level|lvl|severity|levelname)"?\s*[:=]', blob):
        parts.append(_KV)
    return "|".join(parts)


@dataclass
class _Acc:
    errors: dict[int, int] = field(default_factory=dict)
    totals: dict[int, int] = field(default_factory=dict)
    total_lines: int = 0
    error_lines: int = 0
    without_time: int = 0
    first: float | None = None
    last: float | None = None

    def seen(self, ts: float) -> None:
        if self.first is None or ts < self.first:
            self.first = ts
        if self.last is None or ts > self.last:
            self.last = ts


def error_timeline(
    paths: list[Path],
    *,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
    bucket_seconds: int = 60,
    progress: Callable[[int, int], None] | None = None,
    totals: bool = True,
) -> ErrorTimeline:
    """Errors (and, unless `totals=False`, all records) per bucket in [since, until), analysed."""
    lo_ts = since.timestamp() if since else None
    hi_ts = until.timestamp() if until else None
    acc = _Acc()
    sizes = [_size(p) for p in paths]
    done = 0
    for path, size in zip(paths, sizes, strict=True):
        def tick(n: int, base: int = done) -> None:
            if progress is not None:
                progress(base + n, sum(sizes))

        _scan_file(path, now, lo_ts, hi_ts, acc, totals, tick)
        done += size
        if progress is not None:
            progress(done, sum(sizes))
    start = lo_ts if lo_ts is not None else acc.first
    end = hi_ts if hi_ts is not None else (acc.last + 1 if acc.last is not None else None)
    tl = build(acc.errors, acc.totals if totals else None, start, end, bucket_seconds)
    tl.total_lines = acc.total_lines
    tl.error_lines = acc.error_lines
    tl.lines_without_time = acc.without_time
    tl.files = [logscan.display(p) for p in paths]
    return tl


def _size(p: Path) -> int:
    try:
        return 0 if p == STDIN else p.stat().st_size
    except OSError:
        return 0


def _scan_file(path: Path, now: datetime, lo_ts: float | None, hi_ts: float | None, acc: _Acc, totals: bool, tick: Callable[[int], None]) -> None:
    sample = logscan.sample(path) if path != STDIN else []
    parser = logscan.parser_for(path, now, sample)
    rg = None
    lo, hi = logscan.window_offsets(path, parser, lo_ts, hi_ts)
    if logscan.is_seekable(path):
        size = _size(path)
        if hi is None:
            hi = size
        if size == 0:
            return
        # rg reads the whole file; past a small window Python's own scan of the window is cheaper.
        rg = logscan.find_rg() if (hi - lo) * 4 > size else None
    pattern = candidate_pattern(sample)
    offsets: Iterator[int] | None = logscan.rg_offsets(rg, path, pattern) if rg else None
    rx = None if offsets is not None else re.compile(pattern.encode())
    scan = _FileScan(parser, lo_ts, hi_ts, acc)
    pending: int | None = None
    try:
        for base, chunk in logscan.iter_chunks(path, lo, hi, size=_CHUNK):
            end = base + len(chunk)
            if offsets is not None:
                cands: list[int] = []
                if pending is not None and pending < end:
                    cands.append(pending - base)
                    pending = None
                if pending is None:
                    for off in offsets:
                        if off < base:
                            continue
                        if off >= end:
                            pending = off
                            break
                        cands.append(off - base)
            else:
                assert rx is not None
                cands = [m.start() for m in rx.finditer(chunk)]
            scan.errors(chunk, cands)
            if totals:
                scan.totals(chunk)
            else:
                acc.total_lines += chunk.count(b"\n")
            tick(end - lo)
    finally:
        if offsets is not None:
            offsets.close()  # type: ignore[attr-defined]  # a generator


class _FileScan:
    """Per-file state carried from chunk to chunk: the record a trace line belongs to."""

    def __init__(self, parser: LineParser, lo_ts: float | None, hi_ts: float | None, acc: _Acc):
        self.p = parser
        self.lo = lo_ts
        self.hi = hi_ts
        self.acc = acc
        self.grouping = parser.style is not None
        self.rec_ts: float | None = None  # the last record opened in earlier chunks
        self.rec_line: bytes = b""
        self.rec_counted = False

    def _in(self, ts: float) -> bool:
        return (self.lo is None or ts >= self.lo) and (self.hi is None or ts < self.hi)

    def _count_error(self, ts: float | None) -> None:
        if ts is None:
            self.acc.without_time += 1
            self.acc.error_lines += 1
            return
        if self._in(ts):
            m = int(ts // 60) * 60
            self.acc.errors[m] = self.acc.errors.get(m, 0) + 1
            self.acc.error_lines += 1
            self.acc.seen(ts)

    def errors(self, chunk: bytes, cands: list[int]) -> None:
        # The hot loop of the timeline (one pass per candidate line): locals, no helper calls on
        # the common path (a timestamped line whose own level decides).
        last_start = -1
        counted_record = -2  # chunk offset of the last record counted (-1: the carried one)
        parse, rfind, find = self.p.parse, chunk.rfind, chunk.find
        errors, lo, hi, grouping = self.acc.errors, self.lo, self.hi, self.grouping
        for c in cands:
            start = rfind(b"\n", 0, c) + 1
            if start == last_start:
                continue
            last_start = start
            end = find(b"\n", start, start + LINE_CAP)
            line = chunk[start : end if end >= 0 else start + LINE_CAP]
            st = parse(line)
            if st is not None:
                lv = level_of(line)
                if lv == "error" or (lv is None and is_error([line])):
                    ts = st.ts
                    if (lo is None or ts >= lo) and (hi is None or ts < hi):
                        m = int(ts // 60) * 60
                        errors[m] = errors.get(m, 0) + 1
                        self.acc.error_lines += 1
                        self.acc.seen(ts)
                    counted_record = start
                continue
            if not grouping:
                if is_error([line]):
                    self._count_error(None)
                continue
            # A trace line: it belongs to the record that opened it.
            rec_start, rec_line, rec_ts = self._opener(chunk, start)
            if rec_start == counted_record or (rec_start == -1 and self.rec_counted):
                continue
            rec_level = level_of(rec_line) if rec_line else None
            if rec_level not in (None, "error"):
                continue  # a WARN with a trace is still a warning
            if rec_level == "error" or is_error([line.rstrip(b"\r")]):
                self._count_error(rec_ts)
                counted_record = rec_start
                if rec_start == -1:
                    self.rec_counted = True
        self._carry(chunk, counted_record)

    def _opener(self, chunk: bytes, pos: int) -> tuple[int, bytes, float | None]:
        for _ in range(logscan.RECORD_MAX_LINES):
            if pos <= 0:
                break
            prev = chunk.rfind(b"\n", 0, pos - 1) + 1
            line = chunk[prev : min(pos - 1, prev + LINE_CAP)].rstrip(b"\r")
            st = self.p.parse(line)
            if st is not None:
                return prev, line, st.ts
            pos = prev
        return -1, self.rec_line, self.rec_ts

    def _carry(self, chunk: bytes, counted: int) -> None:
        pos = len(chunk)
        for _ in range(logscan.RECORD_MAX_LINES):
            if pos <= 0:
                return
            prev = chunk.rfind(b"\n", 0, pos - 1) + 1
            line = chunk[prev : min(pos, prev + LINE_CAP)].rstrip(b"\r\n")
            st = self.p.parse(line)
            if st is not None:
                self.rec_ts, self.rec_line, self.rec_counted = st.ts, line, counted == prev
                return
            pos = prev

    # ------------------------------------------------------------ totals

    def totals(self, chunk: bytes) -> None:
        if not self.grouping:
            n = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
            self.acc.total_lines += n
            self.acc.without_time += n
            return
        self._region(chunk, 0, len(chunk))

    def _first(self, chunk: bytes, a: int, b: int) -> tuple[int, bytes, float, int] | None:
        pos = a
        for _ in range(64):
            if pos >= b:
                return None
            end = chunk.find(b"\n", pos, b)
            end = b if end < 0 else end
            line = chunk[pos : min(end, pos + LINE_CAP)]
            st = self.p.parse(line)
            if st is not None:
                return pos, line, st.ts, st.minute_end
            pos = end + 1
        return None

    def _last(self, chunk: bytes, a: int, b: int) -> float | None:
        pos = b
        for _ in range(64):
            if pos <= a:
                return None
            prev = max(a, chunk.rfind(b"\n", a, pos - 1) + 1)
            st = self.p.parse(chunk[prev : min(pos, prev + LINE_CAP)])
            if st is not None:
                return st.ts
            pos = prev
        return None

    def _region(self, chunk: bytes, a: int, b: int) -> None:
        first = self._first(chunk, a, b)
        lts = self._last(chunk, first[0], b) if first is not None else None
        if first is not None and lts is not None and int(first[2] // 60) == int(lts // 60):
            fpos, fline, fts, mend = first
            self._add(fts, self._records(chunk, fpos, b, fline, mend))
            return
        if b - a <= _SMALL:
            self._per_line(chunk, a, b)
            return
        mid = chunk.find(b"\n", (a + b) // 2, b)
        if mid < 0 or mid + 1 >= b:
            self._per_line(chunk, a, b)
            return
        self._region(chunk, a, mid + 1)
        self._region(chunk, mid + 1, b)

    def _records(self, chunk: bytes, a: int, b: int, fline: bytes, mend: int) -> int:
        if self.p.anchored and mend > 0:
            prefix = b"\n" + fline[:mend]
            return 1 + chunk.count(prefix, a, b)
        n = chunk.count(b"\n", a, b) + (0 if chunk[b - 1 : b] == b"\n" else 1)
        return n - chunk.count(b"\n ", a, b - 1) - chunk.count(b"\n\t", a, b - 1)

    def _per_line(self, chunk: bytes, a: int, b: int) -> None:
        pos = a
        while pos < b:
            end = chunk.find(b"\n", pos, b)
            end = b if end < 0 else end
            st = self.p.parse(chunk[pos : min(end, pos + LINE_CAP)])
            if st is not None:
                self._add(st.ts, 1)
            pos = end + 1

    def _add(self, ts: float, n: int) -> None:
        m = int(ts // 60) * 60
        if (self.lo is not None and m + 60 <= self.lo) or (self.hi is not None and m >= self.hi):
            return
        self.acc.totals[m] = self.acc.totals.get(m, 0) + n
        self.acc.total_lines += n
        self.acc.seen(ts)


# ---------------------------------------------------------------- analysis

SUSTAIN = 3  # minutes: a single spike is not an onset
RECENT = 5  # minutes that make "the end of the window"
_MAX_BUCKETS = 1500


def _bucket_size(start: float, end: float, want: int) -> int:
    size = max(60, want)
    for step in (60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400):
        if step >= size and (end - start) / step <= _MAX_BUCKETS:
            return step
    return max(size, int(math.ceil((end - start) / _MAX_BUCKETS / 86400)) * 86400)


def build(errors: dict[int, int], totals: dict[int, int] | None, start: float | None, end: float | None, bucket_seconds: int = 60) -> ErrorTimeline:
    """Bucket per-minute counts over [start, end) and find baseline, onset, recovery."""
    if start is None or end is None or end <= start:
        return ErrorTimeline(bucket_seconds=bucket_seconds)
    size = _bucket_size(start, end, bucket_seconds)
    b0 = int(start // size) * size
    n = max(1, int(math.ceil((end - b0) / size)))
    errs = [0] * n
    tots = [0] * n
    for m, c in errors.items():
        i = int((m - b0) // size)
        if 0 <= i < n:
            errs[i] += c
    for m, c in (totals or {}).items():
        i = int((m - b0) // size)
        if 0 <= i < n:
            tots[i] += c
    per_min = size / 60
    # The last bucket may be partial (the window ends mid-minute): rates use the covered part.
    last_cover = max(1e-9, min(size, end - (b0 + (n - 1) * size))) / 60
    covers = [per_min] * (n - 1) + [last_cover]
    rates = [e / c for e, c in zip(errs, covers, strict=True)]
    tl = ErrorTimeline(
        bucket_seconds=size,
        start=to_datetime(start),
        end=to_datetime(end),
        buckets=[TimelineBucket(at=to_datetime(b0 + i * size), errors=errs[i], total=tots[i]) for i in range(n)],  # type: ignore[arg-type]
    )
    _analyse(tl, rates, covers, errs, tots if totals is not None else None, b0, size)
    return tl


def _threshold(base: float) -> float:
    # Well clear of Poisson noise around the baseline, and at least double it.
    return max(base * 2.0, base + 3.0 * math.sqrt(max(base, 1.0)), base + 2.0)


def _analyse(tl: ErrorTimeline, rates: list[float], covers: list[float], errs: list[int], tots: list[int] | None, b0: float, size: int) -> None:
    n = len(rates)
    tl.peak_errors_per_min = round(max(rates), 3) if rates else 0.0
    ordered = sorted(rates)
    # The whole window's median, unless the incident fills most of it; then its quietest tenth.
    base, onset_i = 0.0, None
    base = _median(ordered)
    onset_i = _onset(rates, _threshold(base))
    if onset_i is None and ordered:
        low = ordered[len(ordered) // 10]
        i = _onset(rates, _threshold(low))
        # Only a rise that holds for most of the rest of the window (noise does not).
        if i is not None and n - i >= n // 2 and _median(rates[i:]) >= _threshold(low):
            base, onset_i = low, i
    if onset_i is not None and onset_i >= 3:
        # The baseline is what came before the rise.
        base = _median(rates[:onset_i])
        onset_i = _onset(rates, _threshold(base)) or onset_i
    high = _threshold(base)
    tl.baseline_errors_per_min = round(base, 3)
    k = min(RECENT * 60 // size or 1, n)
    tl.recent_errors_per_min = round(sum(errs[-k:]) / sum(covers[-k:]), 3)
    if tots is not None:
        before = slice(0, onset_i) if onset_i else slice(0, n)
        tl.baseline_error_ratio = _ratio(errs[before], tots[before])
        tl.recent_error_ratio = _ratio(errs[-k:], tots[-k:])
        ratios = [e / t for e, t in zip(errs, tots, strict=True) if t >= 10]
        tl.peak_error_ratio = round(max(ratios), 4) if ratios else None
    if onset_i is None:
        return
    tl.onset = to_datetime(b0 + onset_i * size)
    calm = base + (high - base) / 2
    rec = _recovery(rates, onset_i, high, calm)
    if rec is not None:
        tl.recovered_at = to_datetime(b0 + rec * size)
        tl.still_elevated = False
    else:
        tl.still_elevated = tl.recent_errors_per_min > calm


def _onset(rates: list[float], high: float) -> int | None:
    """First index that opens a sustained rise over `high`: it and at least SUSTAIN-1 of the next
    SUSTAIN buckets are high (one dip is tolerated, a lone spike is not). Near the end of the
    window, every remaining bucket must be high, and there must be at least two."""
    n = len(rates)
    for i, r in enumerate(rates):
        if r < high:
            continue
        run = rates[i : i + SUSTAIN + 1]
        hits = sum(1 for x in run if x >= high)
        if len(run) == SUSTAIN + 1 and hits >= SUSTAIN:
            return i
        if len(run) <= SUSTAIN and len(run) >= 2 and hits == len(run) and i + len(run) == n:
            return i
    return None


def _recovery(rates: list[float], onset: int, high: float, calm: float) -> int | None:
    """First bucket after the onset from which no bucket is high again and the average is back
    near the baseline (Poisson noise around a background rate must not block recovery)."""
    n = len(rates)
    first = None
    for i in range(n - 1, onset, -1):
        if rates[i] >= high:
            break
        first = i
    if first is None or n - first < SUSTAIN:
        return None
    tail = rates[first:]
    return first if sum(tail) / len(tail) <= calm else None


def _median(xs: list[float]) -> float:
    if not xs:
        return 0.0
    s = sorted(xs)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def _ratio(errs: list[int], tots: list[int]) -> float | None:
    t = sum(tots)
    return round(sum(errs) / t, 4) if t else None
