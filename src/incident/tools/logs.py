"""Log search, error samples, per-endpoint error counts, and the log tools a model may call.

Search runs ripgrep (the `ripgrep` wheel's `rg`) with a fixed argv for plain files and a bytes
regex over 8 MB chunks otherwise (gzip, stdin, or no `rg`); both report the same hits: rg only
finds the matching lines, and context and timestamps are read from the file by the same code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from mmap import mmap as mmap_t
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from incident.errors import UsageError
from incident.models import SearchHit
from incident.tools import logscan
from incident.tools.logscan import LINE_CAP, decode, is_error
from incident.tools.timestamps import LineParser, to_datetime

HIT_CHARS = 2000


class SearchResult(BaseModel):
    hits: list[SearchHit] = Field(default_factory=list)
    truncated: bool = False
    files_scanned: int = 0
    engine: Literal["rg", "python"] = "python"


def compile_pattern(pattern: str, literal: bool) -> re.Pattern[bytes]:
    if not pattern:
        raise UsageError("empty search pattern", "give a word or a regular expression")
    if "\x00" in pattern or "\n" in pattern:
        raise UsageError("the search pattern contains a NUL byte or a newline", "search one line at a time")
    if len(pattern) > 2000:
        raise UsageError("the search pattern is longer than 2000 characters")
    raw = pattern.encode("utf-8")
    try:
        return re.compile(re.escape(raw) if literal else raw, re.MULTILINE)
    except re.error as e:
        raise UsageError(f"invalid regular expression {pattern!r}: {e}", "use --literal to search the text as it is") from None


def required_literal(rx: re.Pattern[bytes], literal: bool) -> bytes | None:
    """The longest literal every match must contain (a fast `find` first, the regex second)."""
    if literal:
        return rx.pattern.replace(b"\\", b"") if rx.pattern.isascii() and b"\\" not in rx.pattern else None
    try:
        from re import _parser as sre_parse  # type: ignore[attr-defined]  # stdlib internals, stable in 3.11+
    except ImportError:  # pragma: no cover
        return None
    try:
        parsed = sre_parse.parse(rx.pattern.decode("latin-1"), 0)
    except Exception:  # an internal parser: any surprise just means no prefilter
        return None
    best, run = b"", bytearray()
    for op, av in parsed:
        if op is sre_parse.LITERAL and av < 256:
            run.append(av)
            continue
        best = max(best, bytes(run), key=len)
        run.clear()
    best = max(best, bytes(run), key=len)
    return best if len(best) >= 3 else None


# ---------------------------------------------------------------- matching lines


def _rg_lines(rg: str, path: Path, pattern: str, literal: bool) -> Iterator[tuple[int, int]]:
    """(line number, byte offset of the line) of every matching line, from `rg -n -b`."""
    import subprocess

    argv = [rg, "--no-config", "--text", "--line-number", "--byte-offset", "--no-filename", "--no-heading",
            "--color", "never", "--max-columns", "200", "--max-columns-preview"]
    if literal:
        argv.append("--fixed-strings")
    argv += ["-e", pattern, "--", str(path)]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    try:
        for raw in proc.stdout:
            parts = raw.split(b":", 2)
            if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
                yield int(parts[0]), int(parts[1])
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.wait()


def _py_lines(mm: mmap_t, rx: re.Pattern[bytes], lit: bytes | None, lo: int, hi: int) -> Iterator[tuple[int, int]]:
    """The pure-Python engine over a mapped file: `find` for the rarest literal (or the regex
    itself), then the regex on that line only; lines are counted only up to each hit."""
    line_no = _count_nl(mm, 0, lo)
    counted = lo
    pos = lo
    while pos < hi:
        if lit is not None:
            i = mm.find(lit, pos, hi)
        else:
            m = rx.search(mm, pos, hi)
            i = -1 if m is None else m.start()
        if i < 0:
            return
        start = mm.rfind(b"\n", 0, i) + 1
        end = mm.find(b"\n", i, hi)
        end = hi if end < 0 else end
        # A regex match may run across a newline (\s); rg is line-based, so re-check the line.
        if rx.search(mm, start, end) is not None:
            line_no += _count_nl(mm, counted, start)
            counted = start
            yield line_no + 1, start
        pos = end + 1


def _count_nl(mm: mmap_t, a: int, b: int) -> int:
    n = 0
    for x in range(a, b, 8 << 20):
        n += mm[x : min(b, x + (8 << 20))].count(b"\n")
    return n


def _match_starts(chunk: bytes, rx: re.Pattern[bytes], lit: bytes | None) -> Iterator[int]:
    """Start offsets of the lines of `chunk` that match, each once, in order."""
    pos, n = 0, len(chunk)
    while pos < n:
        if lit is not None:
            i = chunk.find(lit, pos)
        else:
            m = rx.search(chunk, pos)
            i = -1 if m is None else m.start()
        if i < 0:
            return
        start = chunk.rfind(b"\n", 0, i) + 1
        end = chunk.find(b"\n", i)
        end = n if end < 0 else end
        # A regex match may run across a newline (\s); rg is line-based, so re-check the line.
        if rx.search(chunk, start, end) is not None:
            yield start
        pos = end + 1


def _count_lines(path: Path, upto: int) -> int:
    return sum(chunk.count(b"\n") for _, chunk in logscan.iter_chunks(path, 0, upto))


# ---------------------------------------------------------------- search


def search(
    paths: list[Path],
    pattern: str,
    *,
    literal: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime,
    context: int = 0,
    max_hits: int = 200,
    use_rg: bool = True,
) -> SearchResult:
    """Lines matching `pattern` (regex, or text with `literal`) whose record time is in
    [since, until), at most `max_hits`, each with `context` lines either side."""
    rx = compile_pattern(pattern, literal)
    lit = required_literal(rx, literal)
    rg = logscan.find_rg() if use_rg else None
    context = max(0, min(context, 20))
    lo_ts = since.timestamp() if since else None
    hi_ts = until.timestamp() if until else None
    result = SearchResult(engine="rg" if rg else "python")
    for path in paths:
        result.files_scanned += 1
        for hit in _search_file(path, rx, lit, literal, pattern, rg, now, lo_ts, hi_ts, context):
            if len(result.hits) >= max_hits:
                result.truncated = True
                return result
            result.hits.append(hit)
    return result


def _search_file(
    path: Path, rx: re.Pattern[bytes], lit: bytes | None, literal: bool, pattern: str, rg: str | None,
    now: datetime, lo_ts: float | None, hi_ts: float | None, context: int,
) -> Iterator[SearchHit]:
    parser = logscan.parser_for(path, now)
    windowed = lo_ts is not None or hi_ts is not None
    if not logscan.is_seekable(path):
        yield from _search_stream(path, rx, lit, parser, lo_ts, hi_ts, context)
        return
    mm, size = logscan.open_mmap(path)
    if mm is None:
        return
    with mm:
        lo, hi = logscan.window_offsets(path, parser, lo_ts, hi_ts)
        hi = size if hi is None else hi
        found = _rg_lines(rg, path, pattern, literal) if rg else _py_lines(mm, rx, lit, lo, hi)
        try:
            for line_no, off in found:
                if off < lo:
                    continue
                if off >= hi:
                    break
                ts = _record_time(mm, off, parser)
                if windowed and (ts is None or (lo_ts is not None and ts < lo_ts) or (hi_ts is not None and ts >= hi_ts)):
                    continue
                yield _hit(path, line_no, ts, mm, off, context, size)
        finally:
            found.close()  # type: ignore[attr-defined]  # a generator: ends rg early


def _line_at(buf: bytes | mmap_t, off: int, limit: int) -> tuple[bytes, int]:
    end = buf.find(b"\n", off, min(limit, off + LINE_CAP + 1))
    line = buf[off : end if end >= 0 else min(limit, off + LINE_CAP)]
    nl = end if end >= 0 else buf.find(b"\n", off, limit)
    return line.rstrip(b"\r")[:LINE_CAP], (limit if nl < 0 else nl + 1)


def _record_time(buf: bytes | mmap_t, off: int, parser: LineParser, floor: int = 0) -> float | None:
    """The time of the record the line at `off` belongs to (its own, or its opener's)."""
    pos = off
    for _ in range(logscan.RECORD_MAX_LINES + 1):
        line, _ = _line_at(buf, pos, len(buf))
        st = parser.parse(line)
        if st is not None:
            return st.ts
        if pos <= floor or parser.style is None:
            return None
        pos = buf.rfind(b"\n", floor, pos - 1) + 1 if pos - 1 > floor else floor
    return None


def _hit(path: Path, line_no: int, ts: float | None, buf: bytes | mmap_t, off: int, context: int, limit: int, floor: int = 0) -> SearchHit:
    line, nxt = _line_at(buf, off, limit)
    before: list[str] = []
    pos = off
    for _ in range(context):
        if pos <= floor:
            break
        prev = buf.rfind(b"\n", floor, pos - 1) + 1 if pos - 1 > floor else floor
        before.insert(0, decode(_line_at(buf, prev, limit)[0])[:HIT_CHARS])
        pos = prev
    after: list[str] = []
    for _ in range(context):
        if nxt >= limit:
            break
        text, nxt = _line_at(buf, nxt, limit)
        after.append(decode(text)[:HIT_CHARS])
    return SearchHit(path=logscan.display(path), line_no=line_no, at=to_datetime(ts), text=decode(line)[:HIT_CHARS], before=before, after=after)


def _search_stream(
    path: Path, rx: re.Pattern[bytes], lit: bytes | None, parser: LineParser,
    lo_ts: float | None, hi_ts: float | None, context: int,
) -> Iterator[SearchHit]:
    """gzip and stdin: no seeking, so each chunk carries the previous chunk's tail with it."""
    windowed = lo_ts is not None or hi_ts is not None
    tail = b""
    line_no = 0
    for _, chunk in logscan.iter_chunks(path):
        # Keep enough of the previous chunk for context and for a trace's opening line.
        buf = tail + chunk
        floor = len(tail)
        counted = floor
        for start in _match_starts(chunk, rx, lit):
            s = floor + start
            line_no += buf.count(b"\n", counted, s)
            counted = s
            ts = _record_time(buf, s, parser)
            if windowed and (ts is None or (lo_ts is not None and ts < lo_ts) or (hi_ts is not None and ts >= hi_ts)):
                continue
            yield _hit(path, line_no + 1, ts, buf, s, context, len(buf))
        line_no += buf.count(b"\n", counted)
        tail = _tail(buf, logscan.RECORD_MAX_LINES + 1, 1 << 20)


def _tail(buf: bytes, lines: int, cap: int) -> bytes:
    pos = len(buf)
    for _ in range(lines):
        if pos <= 0 or len(buf) - pos > cap:
            break
        pos = buf.rfind(b"\n", 0, pos - 1) + 1
    return buf[pos:]


# ---------------------------------------------------------------- error samples and endpoints


def error_records(paths: list[Path], *, since: datetime | None, until: datetime | None, now: datetime, limit: int = 50) -> list[SearchHit]:
    """Error records in [since, until), earliest first, each with its whole trace in `text`."""
    lo = since.timestamp() if since else None
    hi = until.timestamp() if until else None
    out: list[SearchHit] = []
    for path in paths:
        parser = logscan.parser_for(path, now)
        start, end = logscan.window_offsets(path, parser, lo, hi)
        first = _count_lines(path, start) + 1 if start else 1
        for rec in logscan.iter_records(path, parser, start, end, first_line_no=first):
            if rec.ts is not None and ((lo is not None and rec.ts < lo) or (hi is not None and rec.ts >= hi)):
                continue
            if not is_error(rec.lines):
                continue
            out.append(SearchHit(path=logscan.display(path), line_no=rec.line_no, at=to_datetime(rec.ts), text=rec.text()[: HIT_CHARS * 4]))
            if len(out) >= limit * 20:
                break
    out.sort(key=lambda h: (h.at is None, h.at or datetime.min, h.path, h.line_no))
    return out[:limit]


# ---------------------------------------------------------------- tools

from incident.tools.endpoints import endpoint_of, endpoint_stats  # noqa: E402  # re-exported: their own module
from incident.tools.logtools import TOOLS  # noqa: E402  # the tool wrappers, kept in their own module

__all__ = ["SearchResult", "search", "error_records", "endpoint_stats", "endpoint_of", "TOOLS"]
