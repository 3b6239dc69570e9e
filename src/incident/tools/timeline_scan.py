"""The per-file state of an error-timeline scan: which record a trace line belongs to, per-minute
error counts and totals, and the file's coverage (see timeline.py for how the scan stays fast).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from incident.tools import logscan
from incident.tools.continuation import count_continuations, crash, traceback
from incident.tools.logscan import LINE_CAP, is_error, level_of, traceback_opens
from incident.tools.timestamps import LineParser

_SMALL = 4096  # bytes of a chunk region counted line by line rather than split further


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
        it, or a crash line or an opening traceback on the way (timed by the stamped line before
        that); start -1 when it was opened in an earlier chunk."""
        end = chunk.find(b"\n", pos, pos + LINE_CAP)
        opened: tuple[int, bytes] | None = None
        tb: tuple[int, bytes] | None = None  # the earliest traceback on the way (records.opener_of)
        here = chunk[pos : end if end >= 0 else pos + LINE_CAP].rstrip(b"\r")
        wrapper = self.p.wrapper
        if crash(here):
            opened = (pos, here)
        elif traceback(here, wrapper):
            tb = (pos, here)
        for _ in range(logscan.RECORD_MAX_LINES):
            if pos <= 0:
                break
            prev = chunk.rfind(b"\n", 0, pos - 1) + 1
            line = chunk[prev : min(pos - 1, prev + LINE_CAP)].rstrip(b"\r")
            st = self.p.parse(line)
            if st is not None:
                if opened is None and tb is not None and traceback_opens(tb[1], wrapper, line):
                    return (*tb, self.p.own_time(tb[1], st.ts))
                return (prev, line, st.ts) if opened is None else (*opened, st.ts)
            if opened is None and crash(line):
                opened = (prev, line)
            elif opened is None and traceback(line, wrapper):
                tb = (prev, line)
            pos = prev
        if opened is None and tb is not None and traceback_opens(tb[1], wrapper, self.rec_line):
            opened = tb
        return (-1, self.rec_line, self.rec_ts) if opened is None else (*opened, self.p.own_time(opened[1], self.rec_ts))

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
