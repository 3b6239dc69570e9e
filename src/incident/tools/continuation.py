"""Lines that carry a timestamp but continue the record before them, and lines without one that
start a record of their own.

A container runtime (CRI, Docker's json-file) or journald stamps every line a program writes, so
a Java stack trace arrives as twenty stamped lines. Counted as records they multiply one failure
(`java.lang.IllegalStateException`, then `Caused by: ...`, each an error of its own) and split the
trace from the line that explains it. Inside such an envelope, a message that is plainly part of
a trace — indented, `Caused by:`, `... 12 more`, a qualified exception name, a goroutine header,
a Go frame, an empty line — continues the record before it.

The other way round: a Go `panic:`, the Go runtime's `fatal error:`, Java's `Exception in thread`
and .NET's `Unhandled exception.` are written by the runtime without the logger's stamp, after
whatever line the program wrote last (often an INFO). They open a record of their own, timed by
the record before them, so the crash is an error even when the line before it was not.

Python's `Traceback (most recent call last):` opens a record too, but not after an error record:
there it is that error's own exception (`logger.exception`), or the next link of a chained
traceback, and a record of its own would count one failure twice (`levels.traceback_opens`).
"""

from __future__ import annotations

import re

# What a trace line looks like at the start of its message. `\\t` and `\\u0009`: a tab inside a
# JSON string (Docker's `log`). The last line of a Python traceback may name an exception that
# ends in neither Error nor Exception (`requests.exceptions.ReadTimeout: ...`, `SystemExit: 1`).
_TRACE = (
    rb"(?:[ \t]|\\t|\\u0009|$|\\n\"|Caused by: |Suppressed: |\.\.\. \d+ (?:more|common frames omitted)"
    rb"|Traceback \(most recent call last\):|During handling of the above exception|The above exception was the direct cause"
    rb"|goroutine \d+ \[|created by [\w/.(*)-]+|[a-z][\w$]*(?:\.[\w$]+)+\.[A-Z][\w$]*(?:Exception|Error|Throwable)\b"
    rb"|[A-Z]\w*(?:Error|Exception)(?::|$|\\n\")"
    rb"|(?:KeyboardInterrupt|SystemExit|StopIteration|GeneratorExit|(?:[a-z_]\w*\.)*(?:exceptions?|exc|errors?)\.[A-Z]\w*)(?:: |$|\\n\")"
    rb"|[\w/.-]+\.(?:\(\*?\w+\)\.)?\w+(?:\.\w+)*\((?:\.\.\.|[^)]{0,200})\)(?:$|\\n\"))"
)
TRACE = re.compile(_TRACE, re.MULTILINE)

# The envelope between a wrapped line's stamp and the program's own text.
_CRI_TAG = re.compile(rb" (?:stdout|stderr) [FP] ")
_SYSLOG_TAG = re.compile(rb" \S+ [^\s:\[\]]{1,64}(?:\[\d{1,10}\])?: ")
_DOCKER = b'{"log":"'
# The same as one regex each, to count continuation lines in a buffer (totals per minute).
_COUNTERS = {
    "cri": re.compile(rb" (?:stdout|stderr) [FP] " + _TRACE, re.MULTILINE),
    "docker": re.compile(rb'(?m)^\{"log":"' + _TRACE, re.MULTILINE),
    "syslog": re.compile(rb"(?m)^\S.{0,80}? \S+ [^\s:\[\]]{1,64}(?:\[\d{1,10}\])?: " + _TRACE, re.MULTILINE),
}

CRASH = re.compile(rb'panic: |fatal error: |Exception in thread "|Unhandled exception\. ')


def message_start(line: bytes, stamp_end: int, wrapper: str) -> int:
    """Where the program's own text starts in a line wrapped by `wrapper`, or -1."""
    if wrapper == "docker":
        return len(_DOCKER) if line.startswith(_DOCKER) else -1
    m = (_CRI_TAG if wrapper == "cri" else _SYSLOG_TAG).match(line, stamp_end)
    return -1 if m is None else m.end()


def continues(line: bytes, stamp_end: int, wrapper: str) -> bool:
    """Does this stamped line continue the record before it (see the module doc)?"""
    at = message_start(line, stamp_end, wrapper)
    return at >= 0 and TRACE.match(line, at) is not None and CRASH.match(line, at) is None


def count_continuations(buf: bytes, a: int, b: int, wrapper: str) -> int:
    """How many lines of buf[a:b] are stamped continuation lines."""
    return sum(1 for _ in _COUNTERS[wrapper].finditer(buf, a, b))


_PID_TAG = re.compile(rb" \S+ [^\s:\[\]]{1,64}\[\d{1,10}\]: ")


def wrapper_of(style: str, stamps: list[tuple[bytes, int]]) -> str | None:
    """`cri`, `docker` or `syslog` when (nearly) every stamped line of a sample is wrapped so;
    `stamps` are (line, stamp end) of the stamped lines. After an ISO stamp a syslog tag must
    carry a pid (journald's `host app[123]: `): `2026-... INFO db: text` is a service's own line."""
    if len(stamps) < 3:
        return None
    for name in ("cri", "docker", "syslog"):
        if name == "syslog" and style != "syslog":
            hits = sum(_PID_TAG.match(line, end) is not None for line, end in stamps)
        else:
            hits = sum(message_start(line, end, name) >= 0 for line, end in stamps)
        if hits >= 0.9 * len(stamps):
            return name
    return None


_TB = b"Traceback (most recent call last):"
_TB_WRAPPED = {
    "cri": re.compile(rb"\S+ (?:stdout|stderr) [FP] Traceback \(most recent call last\):"),
    "docker": re.compile(rb'\{"log":"Traceback \(most recent call last\):'),
    "syslog": re.compile(rb"\S.{0,80}? \S+ [^\s:\[\]]{1,64}(?:\[\d{1,10}\])?: Traceback \(most recent call last\):"),
}


def traceback(line: bytes, wrapper: str | None = None) -> bool:
    """Does Python's `Traceback (most recent call last):` start the program's text of this line
    (after the envelope of `wrapper`)? Prose that quotes it further in is not one."""
    if line.startswith(_TB):
        return True
    if wrapper is None or _TB not in line[:400]:
        return False
    return _TB_WRAPPED[wrapper].match(line) is not None


def crash(line: bytes) -> bool:
    """An unstamped line a runtime writes when the program dies (it opens a record)."""
    return line[:1] in (b"p", b"f", b"E", b"U") and CRASH.match(line) is not None


__all__ = ["CRASH", "continues", "count_continuations", "crash", "message_start", "traceback", "wrapper_of"]
