"""Errors per minute over a window, the baseline, the onset and whether it is still going on.

How it stays fast on a 1 GB log with bounded memory:
- the `--since`/`--until` window is reached by bisecting the file's time order (mmap, a few dozen
  line reads), never by scanning from the start;
- a file whose records all open with an ISO timestamp and the level (most service logs, proven on
  its first lines) is counted by ripgrep alone: it prints one minute key per error record
  (`minutes.py`); rg reads the file itself, or the window's bytes / the decompressed stream fed
  to its standard input from a thread;
- other files: error candidates come from `rg -o -b` with a per-file literal-led pattern (or a
  bytes regex over chunks without rg, for gzip and stdin); only candidate lines are parsed;
- per-minute totals are counted without a per-line loop: a region of a chunk whose first and last
  record fall in the same minute is counted with one `bytes.count` of that minute's prefix
  (or of newlines); regions spanning minutes are split in two until they do. They run while rg
  counts the errors on the other core.
The analysis (baseline, onset, recovery over the minutes the logs cover) is in `onset.py`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from incident.models import ErrorTimeline
from incident.tools import logscan
from incident.tools.continuation import count_continuations, crash
from incident.tools.logscan import LINE_CAP, STDIN, is_error, level_of
from incident.tools.minutes import CRASH_KEYS, Layout, RgMinutes, count_chunk, detect_layout
from incident.tools.onset import build
from incident.tools.prefilter import candidate_pattern, prefilter  # noqa: F401  # candidate_pattern: re-exported (bench, callers)
from incident.tools.records import opener_of
from incident.tools.timestamps import LineParser

_SMALL = 4096
_CHUNK = 2 << 20  # smaller than the default: each chunk is copied a few times, and memory is capped
@dataclass
class _Acc:
    errors: dict[int, int] = field(default_factory=dict)
    totals: dict[int, int] = field(default_factory=dict)
    total_lines: int = 0
    error_lines: int = 0
    without_time: int = 0
    spans: list[tuple[float, float]] = field(default_factory=list)  # (first, last) record of each file

    def add_errors(self, minute: int, n: int) -> None:
        self.errors[minute] = self.errors.get(minute, 0) + n
        self.error_lines += n


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
    """Errors (and, unless `totals=False`, all records) per bucket in [since, until), analysed.

    Only the minutes the logs cover count for the baseline and the onset (see `onset.py`)."""
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
    spans = [(max(a, lo_ts or a), min(b, hi_ts or b)) for a, b in acc.spans]
    spans = [(a, b) for a, b in spans if a <= b]
    start = lo_ts if lo_ts is not None else min((a for a, _ in spans), default=None)
    end = hi_ts if hi_ts is not None else (max(b for _, b in spans) + 1 if spans else None)
    tl = build(acc.errors, acc.totals if totals else None, start, end, bucket_seconds, spans=spans)
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
    lo, hi = logscan.window_offsets(path, parser, lo_ts, hi_ts)
    size = _size(path)
    if logscan.is_seekable(path):
        if hi is None:
            hi = size
        if size == 0:
            return
    scan = _FileScan(parser, lo_ts, hi_ts, acc)
    layout = detect_layout(sample, parser)
    if layout is not None:
        _scan_layout(path, layout, scan, lo, hi, size, totals, tick)
    else:
        _scan_general(path, sample, scan, lo, hi, size, totals, tick)
    if scan.first is not None and scan.last is not None:
        acc.spans.append((scan.first, scan.last))


def _scan_layout(path: Path, layout: Layout, scan: _FileScan, lo: int, hi: int | None, size: int, totals: bool, tick: Callable[[int], None]) -> None:
    """Errors per minute from the layout regex (rg, else Python); totals and the time span from
    our own pass over the chunks, which runs while rg counts on the other core."""
    rg = logscan.find_rg()
    whole = logscan.is_seekable(path) and lo == 0 and hi == size
    job: RgMinutes | None = None
    if rg is not None:
        try:
            job = RgMinutes(rg, layout, str(path) if whole else None)
        except OSError:
            job = None
    counts: Counter[bytes] = Counter()
    rx = layout.regex
    try:
        if job is not None and whole and not totals:
            scan.span_of_file(path, lo, hi)
        else:
            for base, chunk in logscan.iter_chunks(path, lo, hi, size=_CHUNK, cri=scan.p.cri):
                if job is not None and not whole:
                    job.feed(chunk)
                elif job is None:
                    count_chunk(layout, rx, chunk, counts)
                if totals:
                    scan.totals(chunk)
                else:
                    scan.span(chunk)
                tick(base + len(chunk) - lo)
        if job is not None:
            try:
                counts = job.result()
            except OSError:
                # rg failed (killed, out of memory): count the same regex in Python instead.
                counts = Counter()
                for _, chunk in logscan.iter_chunks(path, lo, hi, size=_CHUNK, cri=scan.p.cri):
                    count_chunk(layout, rx, chunk, counts)
    except BaseException:
        if job is not None:
            job.close()
        raise
    if any(counts.pop(k, 0) for k in CRASH_KEYS):
        _count_crashes(path, scan, lo, hi)
    for key, n in counts.items():
        m = layout.minute(key)
        if m is not None and scan.minute_in(m):
            scan.acc.add_errors(int(m), n)


_CRASH_LINE = re.compile(rb"(?m)^(?:panic: |fatal error: |Exception in thread \"|Unhandled exception\. )")


def _count_crashes(path: Path, scan: _FileScan, lo: int, hi: int | None) -> None:
    """Crash lines of a fixed-layout file, each an error at the time of the record before it.
    A second pass, but only over a file that has one (crashes are rare; the layout regex saw it)."""
    for _, chunk in logscan.iter_chunks(path, lo, hi, size=_CHUNK, cri=scan.p.cri):
        for m in _CRASH_LINE.finditer(chunk):
            _, ts = opener_of(chunk, m.start(), scan.p)
            scan._count_error(ts if ts is not None else scan.rec_ts)
        scan._carry(chunk, -2)


def _scan_general(path: Path, sample: list[bytes], scan: _FileScan, lo: int, hi: int | None, size: int, totals: bool, tick: Callable[[int], None]) -> None:
    rg = None
    if logscan.is_seekable(path) and hi is not None:
        # rg reads the whole file; past a small window Python's own scan of the window is cheaper.
        rg = logscan.find_rg() if (hi - lo) * 4 > size else None
    hint = prefilter(sample)
    offsets: Iterator[int] | None = logscan.rg_offsets(rg, path, hint.pattern) if rg else None
    pending: int | None = None
    try:
        for base, chunk in logscan.iter_chunks(path, lo, hi, size=_CHUNK, cri=scan.p.cri):
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
                cands = hint.starts(chunk)
            scan.errors(chunk, cands)
            if totals:
                scan.totals(chunk)
            else:
                scan.span(chunk)
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
        self.first: float | None = None  # the file's first and last record time (its coverage)
        self.last: float | None = None

    def seen(self, ts: float) -> None:
        if self.first is None or ts < self.first:
            self.first = ts
        if self.last is None or ts > self.last:
            self.last = ts

    def minute_in(self, m: float) -> bool:
        """Does the minute starting at `m` overlap the window? (Edges count at minute resolution.)"""
        return (self.lo is None or m + 60 > self.lo) and (self.hi is None or m < self.hi)

    def span(self, chunk: bytes) -> None:
        """Coverage without totals: the first record of a chunk and its last one."""
        if not self.grouping or not chunk:
            return
        first = self._first(chunk, 0, len(chunk))
        if first is not None:
            self.seen(first[2])
        last = self._last(chunk, 0, len(chunk))
        if last is not None:
            self.seen(last)

    def span_of_file(self, path: Path, lo: int, hi: int | None) -> None:
        """Coverage of a plain file's [lo, hi) from a few lines at either end."""
        if not self.grouping:
            return
        mm, size = logscan.open_mmap(path)
        if mm is None:
            return
        with mm:
            hi = size if hi is None else hi
            head = mm[lo : min(hi, lo + (64 << 10))]
            tail_at = max(lo, hi - (64 << 10))
            tail = mm[tail_at:hi]
            if tail_at > lo:
                tail = tail[tail.find(b"\n") + 1 :]
        self.span(head[: head.rfind(b"\n") + 1] or head)
        self.span(tail)

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
            self.seen(ts)

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
                        self.seen(ts)
                    counted_record = start
                continue
            if not grouping:
                if is_error([line]):
                    self._count_error(None)
                continue
            # A trace line: it belongs to the record that opened it.
            rec_start, rec_line, rec_ts = self._opener(chunk, start)
            if rec_start == start:  # a runtime's crash report: an error of its own
                if rec_start != counted_record:
                    self._count_error(rec_ts)
                    counted_record = rec_start
                continue
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
        """(start, line, time) of the record the line at `pos` belongs to: the stamped line before
        it, or a crash line on the way (timed by the stamped line before that); start -1 when it
        was opened in an earlier chunk."""
        end = chunk.find(b"\n", pos, pos + LINE_CAP)
        opened: tuple[int, bytes] | None = None
        here = chunk[pos : end if end >= 0 else pos + LINE_CAP].rstrip(b"\r")
        if crash(here):
            opened = (pos, here)
        for _ in range(logscan.RECORD_MAX_LINES):
            if pos <= 0:
                break
            prev = chunk.rfind(b"\n", 0, pos - 1) + 1
            line = chunk[prev : min(pos - 1, prev + LINE_CAP)].rstrip(b"\r")
            st = self.p.parse(line)
            if st is not None:
                return (prev, line, st.ts) if opened is None else (*opened, st.ts)
            if opened is None and crash(line):
                opened = (prev, line)
            pos = prev
        return (-1, self.rec_line, self.rec_ts) if opened is None else (*opened, self.rec_ts)

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
        # Stamped trace lines of a wrapped log (CRI, Docker, journald) are not records.
        wrapped = count_continuations(chunk, a, b, self.p.wrapper) if self.p.wrapper else 0
        if self.p.anchored and not self.p.shifted and mend > 0:
            prefix = b"\n" + fline[:mend]
            return 1 + chunk.count(prefix, a, b) - wrapped
        n = chunk.count(b"\n", a, b) + (0 if chunk[b - 1 : b] == b"\n" else 1)
        return n - chunk.count(b"\n ", a, b - 1) - chunk.count(b"\n\t", a, b - 1) - wrapped

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
        self.seen(ts)
