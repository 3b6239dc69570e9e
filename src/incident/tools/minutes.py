"""Errors per minute without reading lines in Python, for files with a fixed layout.

Most service logs open every record with the same prefix, an ISO 8601 timestamp and the level
(`2026-11-21 14:33:01,250 ERROR [main] ...`). For such a file one regex both decides the error
and captures the minute, so ripgrep can do the whole attribution:
`rg -o -r '${1}${2}' '^PREFIX(.{16})<rest of the stamp>(<zone>) +(ERROR|FATAL|…)'` prints one
minute key per error record, and Python only counts the keys. A stack trace's lines never start
with a timestamp, so a record is counted once, by the line that opened it.

The layout is accepted only when it reproduces, on every timestamped line of the file's first
lines, what the general reader decides (`LineParser` for the time, `level_of` for the level);
otherwise the timeline takes its general path. Request logs that write an HTTP status after a
key get a second branch in the same regex: any level word and a 5xx status (`status=503` at INFO
is an error); other status styles (access, ALB) take the general path. Without rg the same regex
runs in Python on the lines that hold a level word (or a 5xx value), so both give identical counts.
"""

from __future__ import annotations

import re
import subprocess
import threading
from collections import Counter
from dataclasses import dataclass, field
from queue import Queue
from typing import IO

from incident.tools.levels import http_status, level_of, status_styles
from incident.tools.timestamps import LineParser, iso_minute

_ERROR_WORDS = "ERROR|ERR|FATAL|SEVERE|CRITICAL|CRIT|EMERG|EMERGENCY|ALERT|PANIC"
_ALL_WORDS = "TRACE|DEBUG|INFO|NOTICE|WARNING|WARN|" + _ERROR_WORDS
# Every error word contains one of these: Python finds candidate lines with them, then matches.
_REQUIRED = re.compile(rb"ERR|FATAL|SEVERE|CRIT|EMERG|ALERT|PANIC")
_WORD_LEVEL = {
    b"TRACE": "debug", b"DEBUG": "debug", b"INFO": "info", b"NOTICE": "info", b"WARNING": "warn", b"WARN": "warn",
}
_MIN_LINES = 5
_CRASH = r'panic: |fatal error: |Exception in thread "|Unhandled exception\. |Traceback \(most recent call last\):'
CRASH_KEYS = frozenset((b"panic: ", b"fatal error: ", b'Exception in thread "', b"Unhandled exception. ", b"Traceback (most recent call last):"))
_CRASH_LITERALS = (b"panic: ", b"fatal error: ", b"Exception in thread", b"Unhandled exception.")
TRACEBACK_KEY = b"Traceback (most recent call last):"  # its own key: most are logged under an ERROR line


# A 5xx after a status key (logfmt/JSON request logs write `status=503` at INFO), in the syntax
# rg and Python share: no lookbehind, so the character before the key is consumed. It reads what
# `levels.KEY_STATUS` reads.
_STATUS_5XX = (r'[^\w.\n-]"?(?i:(?:(?:http|response|resp|res|downstream|upstream)[._]?){0,2}'
               r'(?:status(?:_?code)?|response_?code))"?[ \t]*[:=][ \t]*"?5[0-9][0-9](?:[^\w.]|$)')
_REQUIRED_STATUS = re.compile(rb'ERR|FATAL|SEVERE|CRIT|EMERG|ALERT|PANIC|[:=][ \t]*"?5[0-9][0-9]')


def _pattern(prefix: bytes, words: str, capture_word: bool) -> str:
    """The layout regex, in the syntax rg (with `(?-u)`: bytes, like Python's) and Python share.
    The minute is 16 bytes; the rest of the stamp runs to the first space, and a zone at its end
    (`Z`, `+02:00`) is captured as group 2."""
    word = f"({words})" if capture_word else f"(?:{words})"
    return f"{_head(prefix)}{word}(?:[^A-Za-z0-9_\\n-]|$)"


def _head(prefix: bytes) -> str:
    lead = "".join(f"\\x{b:02x}" for b in prefix)
    return f"^{lead}(.{{16}})[^ +Z\\n-]*([^ \\n]*) +"


def _error_pattern(prefix: bytes, status: bool) -> str:
    """Error records: an error word, or (with `status`) any level and a 5xx status key."""
    if not status:
        return _pattern(prefix, _ERROR_WORDS, False)
    return (f"{_head(prefix)}(?:(?:{_ERROR_WORDS})(?:[^A-Za-z0-9_\\n-]|$)"
            f"|(?:{_ALL_WORDS})[^\\n]*?{_STATUS_5XX})")


@dataclass
class Layout:
    """A file whose records open with `prefix`, an ISO timestamp, spaces and the level word;
    with `status`, its lines also carry an HTTP status after a key."""

    prefix: bytes
    status: bool = False
    _minutes: dict[bytes, float | None] = field(default_factory=dict)

    @property
    def rg_pattern(self) -> str:
        # A third branch prints a runtime's crash line (no stamp: it has no minute) as `CRASH_KEY`;
        # its time is found afterwards, only when there is one (`timeline._count_crashes`).
        return "(?-u)" + _error_pattern(self.prefix, self.status) + f"|^({_CRASH})"

    @property
    def regex(self) -> re.Pattern[bytes]:
        """The error-word branch only: the Python twin reads statuses with `level_of` (the
        status branch is slow in Python's engine; rg runs it as a DFA)."""
        return re.compile(_error_pattern(self.prefix, False).encode(), re.MULTILINE)

    @property
    def required(self) -> re.Pattern[bytes]:
        return _REQUIRED_STATUS if self.status else _REQUIRED

    def minute(self, key: bytes) -> float | None:
        """UTC epoch of a key rg printed (the 16-byte minute and the zone)."""
        if key not in self._minutes:
            self._minutes[key] = iso_minute(key)
        return self._minutes[key]


_STATUS_CHECKS = 48  # sample lines with a status key on which the (slow in Python) status branch is proven


def detect_layout(sample: list[bytes], parser: LineParser) -> Layout | None:
    """The file's layout if its first lines prove it, else None (use the general path)."""
    styles = status_styles(sample)
    if parser.style != "iso" or not parser.anchored or styles - {"key"}:
        return None
    status = bool(styles)
    prefix: bytes | None = None
    check = words = full = None
    budget = _STATUS_CHECKS
    seen = 0
    for line in sample:
        st = parser.parse(line)
        if st is None:
            continue
        head = line[: st.start]
        if prefix is None:
            if not head.isascii() or b"\n" in head:
                return None
            prefix = head
            check = re.compile(_pattern(prefix, _ALL_WORDS, True).encode())
            words = re.compile(_error_pattern(prefix, False).encode())
            full = re.compile(_error_pattern(prefix, True).encode())
        assert check is not None and words is not None and full is not None
        m = check.match(line) if head == prefix else None
        if m is None or iso_minute(m.group(1) + m.group(2)) != st.ts // 60 * 60:
            return None
        level = level_of(line)
        if words.match(line):
            want = "error"
        elif status and http_status(line) is not None:
            if budget <= 0:
                seen += 1
                continue  # beyond the proof's budget: the word or the status decides, both fine
            budget -= 1
            want = "error" if full.match(line) else _WORD_LEVEL.get(m.group(3), "error")
        else:
            want = _WORD_LEVEL.get(m.group(3), "error")
        if level != want:
            return None
        seen += 1
    if prefix is None or seen < _MIN_LINES:
        return None
    return Layout(prefix, status)


def count_chunk(layout: Layout, rx: re.Pattern[bytes], chunk: bytes, counts: Counter[bytes]) -> None:
    """The pure-Python twin of the rg run: the error-word regex, tried only on lines holding a
    level word; with statuses, a line whose 5xx makes it an error (`level_of`) counts too."""
    pos, n = 0, len(chunk)
    if any(lit in chunk for lit in _CRASH_LITERALS):
        counts[b"panic: "] += 1  # there is a crash line here (maybe): timeline._count_crashes finds it
    if TRACEBACK_KEY in chunk:
        counts[TRACEBACK_KEY] += 1
    search, rfind, find, match = layout.required.search, chunk.rfind, chunk.find, rx.match
    heads = re.compile(_pattern(layout.prefix, _ALL_WORDS, True).encode()) if layout.status else None
    while pos < n:
        m = search(chunk, pos)
        if m is None:
            return
        start = rfind(b"\n", 0, m.start()) + 1
        end = find(b"\n", m.end())
        mm = match(chunk, start)
        if mm is not None:
            counts[mm.group(1) + mm.group(2)] += 1
        elif heads is not None:
            line = chunk[start : n if end < 0 else end].rstrip(b"\r")
            hm = heads.match(line)
            if hm is not None and level_of(line) == "error":
                counts[hm.group(1) + hm.group(2)] += 1
        if end < 0:
            return
        pos = end + 1


class RgMinutes:
    """One `rg -o -r` run over a file, or over bytes fed to its standard input; a thread drains
    its output into a Counter so the caller can scan (or feed) at the same time."""

    def __init__(self, rg: str, layout: Layout, path: str | None):
        argv = [rg, "--no-config", "--text", "--no-filename", "--no-line-number", "--no-heading", "--color", "never",
                "--only-matching", "--replace", "${1}${2}${3}", "-e", layout.rg_pattern, "--", path if path is not None else "-"]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE if path is None else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.counts: Counter[bytes] = Counter()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        self._queue: Queue[bytes | None] | None = None
        self._feeder: threading.Thread | None = None
        self._failed = False
        if path is None:
            self._queue = Queue(maxsize=4)
            self._feeder = threading.Thread(target=self._feed_loop, daemon=True)
            self._feeder.start()

    def _drain(self) -> None:
        out = self.proc.stdout
        assert out is not None
        rest = b""
        while block := out.read(1 << 20):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            self.counts.update(lines)
        if rest:
            self.counts[rest] += 1

    def _feed_loop(self) -> None:
        assert self._queue is not None and self.proc.stdin is not None
        sink: IO[bytes] = self.proc.stdin
        while (block := self._queue.get()) is not None:
            if self._failed:
                continue
            try:
                sink.write(block)
            except (BrokenPipeError, OSError):
                self._failed = True
        try:
            sink.close()
        except OSError:
            self._failed = True

    def feed(self, block: bytes) -> None:
        assert self._queue is not None
        self._queue.put(block)

    def result(self) -> Counter[bytes]:
        """The counts once rg has finished; OSError if it failed (the caller falls back)."""
        if self._queue is not None and self._feeder is not None:
            self._queue.put(None)
            self._feeder.join()
        self._reader.join()
        code = self.proc.wait()
        if self._failed or code not in (0, 1):  # 1: no match
            raise OSError(f"rg exited with {code}")
        return self.counts

    def close(self) -> None:
        """Stop early (an exception in the caller): end rg and the threads."""
        if self.proc.poll() is None:
            self.proc.kill()
        if self._queue is not None and self._feeder is not None and self._feeder.is_alive():
            self._failed = True
            self._queue.put(None)
            self._feeder.join(timeout=5)
        self._reader.join(timeout=5)
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
