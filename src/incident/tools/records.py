"""Records found from a literal prefilter instead of walking every line.

Pattern mining at WARN/ERROR and per-endpoint error counts need only a few records out of many:
a bytes regex finds the lines that could matter, and only those (with the line that opened their
record, and the trace lines after it) are read in Python. Chunks are cut between records, never
inside one, so a stack trace that crosses a chunk boundary is still one record.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from incident.tools import logscan
from incident.tools.continuation import crash, traceback
from incident.tools.levels import traceback_opens
from incident.tools.logscan import LINE_CAP, RECORD_MAX_LINES
from incident.tools.prefilter import Prefilter
from incident.tools.timestamps import LineParser

_CARRY_CAP = 4 << 20  # a "record" longer than this is not held back any further


def record_chunks(path: Path, parser: LineParser, lo: int = 0, hi: int | None = None) -> Iterator[bytes]:
    """Chunks of [lo, hi) that each end where a record ends: the last record of a chunk (which
    may go on in the next) is carried over to the next chunk."""
    carry = b""
    for _, chunk in logscan.iter_chunks(path, lo, hi, cri=parser.cri):
        buf = carry + chunk if carry else chunk
        cut = last_opener(buf, parser) if parser.style is not None else len(buf)
        if cut <= 0 and len(buf) < _CARRY_CAP:
            carry = buf
            continue
        if cut <= 0:
            cut = len(buf)
        yield buf[:cut]
        carry = buf[cut:]
    if carry:
        yield carry


def last_opener(buf: bytes, parser: LineParser) -> int:
    """Offset of the last line in `buf` that opens a record (-1 if none among the last lines)."""
    pos = len(buf)
    for _ in range(RECORD_MAX_LINES + 1):
        if pos <= 0:
            return -1
        start = buf.rfind(b"\n", 0, pos - 1) + 1
        if parser.parse(buf[start : min(pos, start + LINE_CAP)].rstrip(b"\r\n")) is not None:
            return start
        pos = start
    return -1


def opener_of(buf: bytes, pos: int, parser: LineParser) -> tuple[int, float | None]:
    """(start, time) of the record the line starting at `pos` belongs to: the stamped line before
    it, or a crash line or an opening traceback on the way (timed by the stamped line before
    that); (pos, None) if no timestamped line opens it within reach (a file without timestamps:
    each line is a record)."""
    start = pos
    opened = -1  # a crash line on the way: it opens the record, the stamped line before times it
    tb = -1  # the earliest traceback on the way: it opens the record unless an error was before it
    tb_line = b""
    for _ in range(RECORD_MAX_LINES + 1):
        end = buf.find(b"\n", start, start + LINE_CAP)
        line = buf[start : end if end >= 0 else start + LINE_CAP].rstrip(b"\r")
        st = parser.parse(line)
        if st is not None:
            if opened < 0 and tb >= 0 and traceback_opens(tb_line, parser.wrapper, line):
                return tb, parser.own_time(tb_line, st.ts)
            return (start if opened < 0 else opened), st.ts
        if opened < 0 and crash(line):
            opened = start
        elif opened < 0 and traceback(line, parser.wrapper):
            tb, tb_line = start, line
        if start <= 0 or parser.style is None:
            break
        start = buf.rfind(b"\n", 0, start - 1) + 1
    if opened < 0 and tb >= 0:
        opened = tb  # no stamped line within reach: nothing says an error came before it
    return (pos if opened < 0 else opened), None


def record_lines(buf: bytes, start: int, parser: LineParser) -> tuple[list[bytes], int]:
    """The opening line at `start` and the untimestamped lines after it (capped), and where the
    next record starts."""
    lines: list[bytes] = []
    pos, n = start, len(buf)
    while pos < n and len(lines) <= RECORD_MAX_LINES:
        end = buf.find(b"\n", pos)
        end = n if end < 0 else end
        line = buf[pos : min(end, pos + LINE_CAP)].rstrip(b"\r")
        if lines and (parser.style is None or parser.parse(line) is not None or crash(line)
                      or traceback_opens(line, parser.wrapper, lines[0])):
            break
        lines.append(line)
        pos = end + 1
    return lines, pos


def candidate_records(buf: bytes, parser: LineParser, hint: Prefilter) -> Iterator[tuple[int, float | None, list[bytes]]]:
    """(opener offset, time, lines) of every record with a line matching `hint`, once each, in order."""
    pos, n = 0, len(buf)
    last = -1
    rfind, find = buf.rfind, buf.find
    for at in hint.starts(buf):
        if at < pos:
            continue
        line_start = rfind(b"\n", 0, at) + 1
        start, ts = opener_of(buf, line_start, parser)
        nl = find(b"\n", at)
        line_end = n if nl < 0 else nl + 1
        if start != last:
            last = start
            lines, after = record_lines(buf, start, parser)
            yield start, ts, lines
            # Skip the rest of this record: its other lines cannot open another.
            pos = max(after, line_end)
            continue
        pos = line_end
