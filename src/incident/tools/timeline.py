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
from datetime import datetime
from pathlib import Path

from incident.models import ErrorTimeline
from incident.tools import logscan
from incident.tools.logscan import STDIN
from incident.tools.minutes import CRASH_KEYS, TRACEBACK_KEY, Layout, RgMinutes, count_chunk, detect_layout
from incident.tools.onset import build
from incident.tools.prefilter import candidate_pattern, prefilter  # noqa: F401  # candidate_pattern: re-exported (bench, callers)
from incident.tools.records import opener_of
from incident.tools.timeline_scan import _Acc, _FileScan

_CHUNK = 2 << 20  # smaller than the default: each chunk is copied a few times, and memory is capped
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
    crashes = {k for k in CRASH_KEYS if counts.pop(k, 0)}
    if crashes:
        _count_crashes(path, scan, lo, hi, rx, tracebacks_only=crashes == {TRACEBACK_KEY})
    for key, n in counts.items():
        m = layout.minute(key)
        if m is not None and scan.minute_in(m):
            scan.acc.add_errors(int(m), n)


_CRASH_LINE = re.compile(rb"(?m)^(?:panic: |fatal error: |Exception in thread \"|Unhandled exception\. )")
_CRASH_LITERALS = (b"panic: ", b"fatal error: ", b"Exception in thread", b"Unhandled exception.")
_TRACEBACK = b"\nTraceback (most recent call last):"


def _count_crashes(path: Path, scan: _FileScan, lo: int, hi: int | None, errors_rx: re.Pattern[bytes], tracebacks_only: bool) -> None:
    """Crash lines of a fixed-layout file, each an error at the time of the record before it.
    A second pass, but only over a file that has one (crashes are rare; the layout regex saw it).
    A Python service logs most tracebacks under an ERROR line: those are found by `find` (a
    `^`-anchored alternation is slow in Python's engine) and dropped on that line's match."""
    for _, chunk in logscan.iter_chunks(path, lo, hi, size=_CHUNK, cri=scan.p.cri):
        for at in _crash_starts(chunk, tracebacks_only):
            if at > 0 and chunk.startswith(b"T", at) and errors_rx.match(chunk, chunk.rfind(b"\n", 0, at - 1) + 1):
                continue  # the logged exception of the ERROR line before it: counted there
            start, ts = opener_of(chunk, at, scan.p)
            if start != at:
                continue  # a traceback that an error record (counted) or a traceback before it holds
            scan._count_error(ts if ts is not None else scan.rec_ts)
        scan._carry(chunk, -2)


def _crash_starts(chunk: bytes, tracebacks_only: bool) -> list[int]:
    others = not tracebacks_only and any(lit in chunk for lit in _CRASH_LITERALS)
    out = [m.start() for m in _CRASH_LINE.finditer(chunk)] if others else []
    if chunk.startswith(_TRACEBACK[1:]):
        out.append(0)
    i = chunk.find(_TRACEBACK)
    while i >= 0:
        out.append(i + 1)
        i = chunk.find(_TRACEBACK, i + 1)
    return sorted(out)


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
