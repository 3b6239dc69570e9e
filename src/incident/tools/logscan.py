"""Reading logs safely and fast: which files, how to open them, lines, records, levels.

- `expand_paths` (from `logfiles.py`, re-exported) turns what the operator named into readable
  files inside the read roots.
- `iter_chunks` yields line-aligned byte chunks of a plain, gzip or stdin source; a pathological
  line (10 MB, no newline) is cut, never accumulated.
- `iter_records` groups a stack trace's lines with the timestamped line that opened it.
- `level_of` / `is_error` / `http_status` (from `levels.py`, re-exported) read a record's level.
"""

from __future__ import annotations

import mmap
import os
import re
import sys
import threading
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from incident.tools import jsondoc
from incident.tools.continuation import crash
from incident.tools.levels import RECORD_MAX_LINES, http_status, is_error, level_of, traceback_opens  # noqa: F401  # re-exported: callers read levels from logscan
from incident.tools.logfiles import STDIN, expand_paths  # noqa: F401  # re-exported: callers name files through logscan
from incident.tools.timestamps import LineParser, detect

CHUNK = 8 << 20
LINE_CAP = 16 << 10  # bytes of one line kept for a record's text


# ---------------------------------------------------------------- opening and chunking


def display(path: Path) -> str:
    return "<stdin>" if path == STDIN else str(path)


def is_gzip(path: Path) -> bool:
    if path == STDIN:
        return False
    try:
        with open(path, "rb") as f:
            return f.read(2) == b"\x1f\x8b"
    except OSError:
        return False


def is_seekable(path: Path) -> bool:
    return path != STDIN and not is_gzip(path) and jsondoc.lines_of(path) is None


def _gunzip(raw: BinaryIO, size: int) -> Iterator[bytes]:
    """Decompress gzip members one after another (rotated logs are often concatenated), with
    the inflate running a chunk ahead in a thread: zlib releases the GIL, so it overlaps the scan."""
    d = zlib.decompressobj(47)
    pending: deque[bytes | BaseException | None] = deque()
    ready = threading.Semaphore(0)
    room = threading.Semaphore(2)
    stop = threading.Event()

    def produce() -> None:
        nonlocal d
        try:
            while not stop.is_set():
                data = raw.read(size // 4)
                if not data:
                    break
                while data and not stop.is_set():
                    out = d.decompress(data, size)
                    data = d.unconsumed_tail
                    if d.eof:
                        rest, d = d.unused_data, zlib.decompressobj(47)
                        data = data + rest if data else rest
                    if out:
                        room.acquire()
                        pending.append(out)
                        ready.release()
        except (zlib.error, OSError, ValueError) as e:
            pending.append(e)
            ready.release()
            return
        pending.append(None)
        ready.release()

    t = threading.Thread(target=produce, daemon=True)
    t.start()
    try:
        while True:
            ready.acquire()
            item = pending.popleft()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise OSError(f"unreadable gzip data ({item})")
            room.release()
            yield item
    finally:
        stop.set()
        room.release()


def _raw_blocks(path: Path, lo: int, hi: int | None, size: int) -> Iterator[bytes]:
    if path == STDIN:
        stream = sys.stdin.buffer
        while block := stream.read(size):
            yield block
        return
    doc = jsondoc.lines_of(path)
    if doc is not None:
        # A pretty-printed JSON export, read as JSON lines (see jsondoc.py).
        for i in range(0, len(doc), size):
            yield doc[i : i + size]
        return
    with open(path, "rb") as f:
        if f.read(2) == b"\x1f\x8b":
            f.seek(0)
            yield from _gunzip(f, size)
            return
        f.seek(lo)
        left = None if hi is None else hi - lo
        while left is None or left > 0:
            block = f.read(size if left is None else min(size, left))
            if not block:
                return
            if left is not None:
                left -= len(block)
            yield block


def iter_chunks(path: Path, lo: int = 0, hi: int | None = None, size: int = CHUNK, *, cri: bool = False) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) chunks ending at a line end (the last one may not). `lo`/`hi` apply to
    plain files only. A line longer than a chunk is cut where the chunk ends. With `cri` (a
    Kubernetes container log), partial lines are joined with the lines that complete them."""
    chunks = _line_chunks(path, lo, hi, size)
    return _cri_joined(chunks, size) if cri else chunks


def _line_chunks(path: Path, lo: int, hi: int | None, size: int) -> Iterator[tuple[int, bytes]]:
    carry = b""
    offset = lo
    for block in _raw_blocks(path, lo, hi, size):
        buf = carry + block if carry else block
        cut = buf.rfind(b"\n")
        if cut < 0:
            if len(buf) < size:
                carry = buf
                continue
            cut = len(buf) - 1  # no newline in a whole chunk: give it up as it is
        chunk, carry = buf[: cut + 1], buf[cut + 1 :]
        yield offset, chunk
        offset += len(chunk)
    if carry:
        yield offset, carry


# A CRI runtime (containerd, CRI-O) splits a line longer than 16 KB into `P` (partial) lines and
# a final `F` line, each with its own head: `<time> stdout|stderr P|F <text>`.
_CRI_PARTIAL = re.compile(rb"(?m:^)[^ \n]{20,40} (?:stdout|stderr) P ")
_CRI_HEAD = re.compile(rb"[^ \n]{20,40} (?:stdout|stderr) [FP] ")
_JOINED_CAP = 4 * LINE_CAP


def join_partials(chunk: bytes) -> bytes:
    """Each partial line of `chunk` joined with the line after it: the newline and that line's
    head become spaces, so the record reads as one line and every byte offset stays put."""
    if b" P " not in chunk:
        return chunk
    out: bytearray | None = None
    for m in _CRI_PARTIAL.finditer(chunk):
        nl = chunk.find(b"\n", m.end())
        if nl < 0:
            break
        nxt = _CRI_HEAD.match(chunk, nl + 1)
        if nxt is None:
            continue
        if out is None:
            out = bytearray(chunk)
        out[nl : nxt.end()] = b" " * (nxt.end() - nl)
    return chunk if out is None else bytes(out)


def _cri_joined(chunks: Iterator[tuple[int, bytes]], size: int) -> Iterator[tuple[int, bytes]]:
    """Chunks with partial lines joined; a partial line at a chunk's end waits for the next."""
    carry, carry_at = b"", 0
    for off, chunk in chunks:
        buf = carry + chunk if carry else chunk
        base = off - len(carry)
        last = buf.rfind(b"\n", 0, len(buf) - 1) + 1
        if last > 0 and len(buf) - last < size and _CRI_PARTIAL.match(buf, last):
            buf, carry, carry_at = buf[:last], buf[last:], base + last
        else:
            carry = b""
        yield base, join_partials(buf)
    if carry:
        yield carry_at, join_partials(carry)


def iter_lines(path: Path, lo: int = 0, hi: int | None = None) -> Iterator[tuple[int, bytes]]:
    """(offset, line) with the line ending (LF or CRLF) removed and the line capped at LINE_CAP."""
    for base, chunk in iter_chunks(path, lo, hi):
        pos = 0
        n = len(chunk)
        while pos < n:
            end = chunk.find(b"\n", pos)
            if end < 0:
                end = n
            line = chunk[pos : min(end, pos + LINE_CAP)]
            if line.endswith(b"\r"):
                line = line[:-1]
            yield base + pos, line
            pos = end + 1


def sample(path: Path, size: int = 65536) -> list[bytes]:
    """The first lines of a file (decompressed for gzip); stdin is never sampled here."""
    if path == STDIN:
        return []
    try:
        for _, chunk in iter_chunks(path, size=size):
            return [ln.rstrip(b"\r")[:LINE_CAP] for ln in chunk.split(b"\n")[:400]]
    except OSError:
        return []
    return []


def parser_for(path: Path, now: datetime, lines: list[bytes] | None = None) -> LineParser:
    return detect(lines if lines is not None else sample(path), now)


# ---------------------------------------------------------------- records


@dataclass
class Record:
    offset: int
    line_no: int  # 1-based line of the opening line, 0 when unknown
    ts: float | None
    lines: list[bytes] = field(default_factory=list)

    @property
    def first(self) -> bytes:
        return self.lines[0] if self.lines else b""

    def text(self) -> str:
        return "\n".join(decode(x) for x in self.lines)


def decode(b: bytes) -> str:
    return b.decode("utf-8", "replace")


def iter_records(path: Path, parser: LineParser, lo: int = 0, hi: int | None = None, first_line_no: int = 1) -> Iterator[Record]:
    """Records: a timestamped line plus the untimestamped lines after it (a stack trace), capped.

    In a file with no timestamps at all every line is its own record.
    """
    grouping = parser.style is not None
    rec: Record | None = None
    line_no = first_line_no - 1
    partial = False
    for off, line in iter_lines(path, lo, hi):
        line_no += 1
        if partial and rec is not None and (head := _CRI_HEAD.match(line)) is not None:
            # The rest of a CRI partial line: its text continues the record's last line.
            rec.lines[-1] = (rec.lines[-1] + line[head.end() :])[:_JOINED_CAP]
            partial = line[head.end() - 2 : head.end() - 1] == b"P"
            continue
        partial = parser.cri and _CRI_PARTIAL.match(line) is not None
        st = parser.parse(line) if line else None
        if st is None and grouping and rec is not None and rec.ts is not None:
            if crash(line) or traceback_opens(line, parser.wrapper, rec.lines[0]):
                # A runtime's crash report opens its own record, at the time of the one before.
                yield rec
                rec = Record(off, line_no, parser.own_time(line, rec.ts), [line])
            elif len(rec.lines) < RECORD_MAX_LINES:
                rec.lines.append(line)
            continue
        if rec is not None:
            yield rec
        rec = Record(off, line_no, st.ts if st else None, [line])
    if rec is not None:
        yield rec


def open_mmap(path: Path) -> tuple[mmap.mmap | None, int]:
    """A read-only map of a plain file (None for an empty one)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            return None, 0
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), size


def stamp_near(mm: mmap.mmap, parser: LineParser, pos: int, hi: int, *, max_lines: int = 64) -> tuple[float, int] | None:
    """The first timestamped line starting at or after the line containing/after `pos`."""
    if pos > 0:
        nl = mm.find(b"\n", pos - 1, hi)
        if nl < 0:
            return None
        pos = nl + 1
    for _ in range(max_lines):
        if pos >= hi:
            return None
        end = mm.find(b"\n", pos, min(hi, pos + LINE_CAP))
        line = mm[pos : end if end >= 0 else min(hi, pos + LINE_CAP)]
        st = parser.parse(line.rstrip(b"\r"))
        if st is not None:
            return st.ts, pos
        if end < 0:
            nl = mm.find(b"\n", pos, hi)
            if nl < 0:
                return None
            end = nl
        pos = end + 1
    return None


def bisect_offset(mm: mmap.mmap, size: int, parser: LineParser, target: float) -> int:
    """Offset of the first record at/after `target` in a (mostly) time-ordered file: a binary
    search over byte offsets, so reaching the last hour of a 1 GB log reads a few dozen lines."""
    lo, hi = 0, size
    while hi - lo > 4096:
        mid = (lo + hi) // 2
        found = stamp_near(mm, parser, mid, size)
        if found is None or found[0] >= target:
            hi = mid
        else:
            lo = found[1] + 1 if found[1] + 1 < hi else mid
    # The answer is in [lo, hi]: walk the few lines left.
    pos = mm.rfind(b"\n", 0, lo) + 1 if lo > 0 else 0
    while pos < hi:
        end = mm.find(b"\n", pos, size)
        end = size if end < 0 else end
        st = parser.parse(mm[pos : min(end, pos + LINE_CAP)].rstrip(b"\r"))
        if st is not None and st.ts >= target:
            return pos
        pos = end + 1
    return min(pos, size)


# ---------------------------------------------------------------- ripgrep


def find_rg() -> str | None:
    """The `rg` binary: on PATH, or the one the `ripgrep` wheel put next to our interpreter."""
    import shutil

    found = shutil.which("rg")
    if found:
        return found
    beside = Path(sys.executable).parent / "rg"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def rg_offsets(rg: str, path: Path, pattern: str) -> Iterator[int]:
    """Byte offsets of every match of `pattern` in a plain file, in order, from `rg -o -b`.

    The argv is fixed; the pattern goes after `-e` and the path after `--`, so neither can be
    read as an option. `--no-config` keeps RIPGREP_CONFIG_PATH from adding any.
    Closing the generator ends the process.
    """
    import subprocess

    argv = [rg, "--no-config", "--text", "--only-matching", "--byte-offset", "--no-line-number",
            "--no-filename", "--no-heading", "--color", "never", "-e", pattern, "--", str(path)]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    try:
        rest = b""
        while block := proc.stdout.read(1 << 16):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for ln in lines:
                head = ln.partition(b":")[0]
                if head.isdigit():
                    yield int(head)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.wait()


WINDOW_MARGIN = 300.0  # seconds either side of a bisected window: logs are only mostly in order


def window_offsets(path: Path, parser: LineParser, lo_ts: float | None, hi_ts: float | None) -> tuple[int, int | None]:
    """Byte range of a plain file that holds [lo_ts, hi_ts), found by bisection; (0, None) for
    gzip, stdin and files without timestamps (they are read from the start)."""
    if parser.style is None or (lo_ts is None and hi_ts is None) or not is_seekable(path):
        return 0, None
    mm, size = open_mmap(path)
    if mm is None:
        return 0, 0
    with mm:
        lo = bisect_offset(mm, size, parser, lo_ts - WINDOW_MARGIN) if lo_ts is not None else 0
        hi = bisect_offset(mm, size, parser, hi_ts + WINDOW_MARGIN) if hi_ts is not None else size
    return lo, max(lo, hi)
