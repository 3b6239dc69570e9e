"""A record's level and HTTP status, as loggers and proxies write them.

Levels: key=value and JSON (`level`, `severity`, `log.level`, bunyan's numbers; also with the
escaped quotes of an app's JSON inside Docker's `log`), bare words (`ERROR`, also after ANSI
colours or an escaped tab), brackets (nginx/Apache `[error]`, `[core:crit]`), the leading letter
of glog/klog (`E1121 14:00:00.123456 ...`, also inside a Kubernetes CRI line), which wins over any
word in the message; syslog severities (journald's `PRIORITY`, a line's `<PRI>`; an error one
decides, a milder one only when the text names no level), MongoDB's `"s"`, PHP's `PHP Fatal
error:`, daemons' lower-case `error:`/`warning:` after the syslog tag, Redis' `#` (a warning).

HTTP status, from access-style lines only, where the position or the key says it is one:
- common/combined/Envoy: the first 3-digit token after the quoted request (the bytes that
  follow are a size, so `" 200 502` is a success);
- AWS ALB/ELB: the status comes before the request, after the three processing times;
- HAProxy: after the five timers; CloudFront: the tab-separated field after the path; IIS (W3C
  default fields): before substatus, win32 status and time taken; Rails: `Completed 500 ...`;
- logfmt/JSON keys: `status`, `status_code`, `statusCode`, `http.status`,
  `http.response.status_code` (ECS), a nested `"http": {"status": ...}`, Envoy's
  `response_code`, Traefik's `DownstreamStatus`. A duration (`503ms`) or a size is never one.
A 5xx makes a record an error whatever level its logger gave it (request logs write `info`).
"""

from __future__ import annotations

import re

from incident.tools.continuation import traceback

RECORD_MAX_LINES = 200  # continuation lines kept with one record

# A level word stands alone; inside JSON text it may follow an escaped tab or newline (`\tERROR\t`,
# AWS Lambda's lines as CloudWatch exports them).
_LEVEL_WORD = re.compile(
    rb"(?:(?<![\w.-])|(?<=\\[tn]))(TRACE|DEBUG|INFO|NOTICE|WARNING|WARN|ERROR|ERR|FATAL|SEVERE|CRITICAL|CRIT|EMERG|EMERGENCY|ALERT|PANIC)(?![\w-])"
)
# Also with escaped quotes: an app's JSON inside Docker's `log` or a CloudWatch `message`.
_LEVEL_KV = re.compile(
    rb'(?i)(?:"|\b)(?:level|lvl|severity|loglevel|log\.level|levelname|level_name)(?:\\?")?\s*[:=]\s*(?:\\?")?([a-z]+|\d{2})\b'
)
_LEVEL_BRACKET = re.compile(rb"\[(?:\w+:)?(error|crit|alert|emerg|warn|warning|notice|info|debug)\]")
_GLOG = re.compile(rb"([IWEF])\d{4} \d{2}:\d{2}:\d{2}")
_CRI_HEAD = re.compile(rb"\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:?\d{2}) (?:stdout|stderr) [FP] ")
_EXCEPTION = re.compile(
    rb"Traceback \(most recent call last\)|\b[A-Z]\w*(?:Exception|Error)\b|^panic: |^\s+at [\w$.]+\("
    rb"|\bhttp: panic serving |^fatal error: |^Unhandled exception\. "
)
_ANSI = re.compile(rb"\x1b\[[0-9;]*m|\\u001b\[[0-9;]*m")
# journald's PRIORITY and syslog's PRI are syslog severities: 0-3 error, 4 warning, 5-6 info, 7 debug.
_SEVERITY = ("error", "error", "error", "error", "warn", "info", "info", "debug")
_PRIORITY = re.compile(rb'"PRIORITY"\s*:\s*"?([0-7])"?')
_PRI = re.compile(rb"<(\d{1,3})>")
_MONGO = re.compile(rb'"s"\s*:\s*"(F|E|W|I|D\d?)"')
_MONGO_LEVEL = {b"F": "error", b"E": "error", b"W": "warn", b"I": "info"}
# Daemons that write the level in lower case at the start of the message: sshd's `error:`,
# postfix's `warning:`/`fatal:`/`panic:`, after the syslog tag (`sshd[123]: error: ...`).
_LOWER_LEVEL = re.compile(rb"[\w\])]: (error|fatal|panic|warning|crit|critical|alert|emerg): ")
_PHP = re.compile(rb"PHP (Fatal error|Parse error|Catchable fatal error|Recoverable fatal error|Warning|Notice|Deprecated):")
_PHP_LEVEL = {b"Warning": "warn", b"Notice": "info", b"Deprecated": "info"}
# Redis: `1:M 21 Nov 2026 14:00:01.123 # text`; `#` is its warning (it has no error level).
_REDIS = re.compile(rb"\d{1,7}:[MSCX] \d{1,2} [A-Z][a-z]{2} \d{4} [\d:.]{8,15} ([#*.-]) ")
_REDIS_LEVEL = {b"#": "warn", b"*": "info", b"-": "debug", b".": "debug"}

ACCESS_STATUS = re.compile(rb'"[A-Z]{3,10} [^"]{0,8192}" (\d{3}) ')
# ALB: `... 0.000 0.001 0.000 502 502 34 366 "GET ...`; classic ELB writes -1 for times it lacks.
# Classic ELB writes backend status 0 when the backend never answered (`-1 -1 -1 504 0 0 0 "GET`).
LB_STATUS = re.compile(rb" (?:-1|\d+\.\d+) (?:-1|\d+\.\d+) (?:-1|\d+\.\d+) ([1-5]\d\d) (?:[1-5]\d\d|0|-) \d+ \d+ \"")
# HAProxy's httplog: the five timers `TR/Tw/Tc/Tr/Ta` (-1 when not reached), then the status.
HAPROXY_STATUS = re.compile(rb"\] \S+ \S+ -?\d+/-?\d+/-?\d+/-?\d+/\+?-?\d+ ([1-5]\d\d) ")
# CloudFront: tab-separated, the status three fields after the method (method, host, path, status).
TAB_STATUS = re.compile(rb"\t(?:GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH|CONNECT)\t[^\t]*\t[^\t]*\t([1-5]\d\d)\t")
# IIS (W3C default fields): a line ending `sc-status sc-substatus sc-win32-status time-taken`.
W3C_STATUS = re.compile(rb" (?:GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH) \S+ .* ([1-5]\d\d) \d{1,5} \d{1,10} \d{1,10}\r?$")
# Rails' request log: `Completed 500 Internal Server Error in 12ms`.
RAILS_STATUS = re.compile(rb"\bCompleted ([1-5]\d\d) [A-Z]")
KEY_STATUS = re.compile(
    rb'(?i)(?<![\w.-])"?(?:(?:http|response|resp|res|downstream|upstream)[._]?){0,2}'
    rb'(?:status(?:_?code)?|response_?code)"?\s*[:=]\s*"?([1-5]\d\d)(?![\w.])'
)
_KEY_WORDS = (b"tatus", b"TATUS", b"_code", b"Code", b"_CODE")

_NORMAL = {
    b"trace": "debug", b"debug": "debug", b"dbug": "debug", b"info": "info", b"notice": "info", b"information": "info",
    b"warn": "warn", b"warning": "warn", b"eror": "error", b"err": "error", b"error": "error", b"severe": "error",
    b"fatal": "error", b"crit": "error", b"critical": "error", b"emerg": "error", b"emergency": "error",
    b"alert": "error", b"panic": "error", b"dpanic": "error",
}
_BUNYAN = {b"10": "debug", b"20": "debug", b"30": "info", b"40": "warn", b"50": "error", b"60": "error"}
_GLOG_LEVEL = {b"I": "info", b"W": "warn", b"E": "error", b"F": "error"}


def _written_level(head: bytes) -> str | None:
    if b"\x1b" in head or b"\\u001b" in head:
        head = _ANSI.sub(b"", head)  # colours split a level from the bytes around it
    m = _GLOG.match(head)
    if m is None and b" std" in head[:64]:
        cri = _CRI_HEAD.match(head)
        if cri is not None:
            m = _GLOG.match(head, cri.end())
    if m is not None:
        return _GLOG_LEVEL[m.group(1)]
    # A syslog severity (journald's PRIORITY, a line's <PRI>) is what the program asked for; an
    # error one decides, a milder one only when the text names no level (services writing to
    # stdout are all logged at info).
    severity = _severity(head) if head[:1] in (b"<", b"{") else None
    if severity == "error":
        return severity
    return _text_level(head) or severity


def _severity(head: bytes) -> str | None:
    if head[:1] == b"<":
        m = _PRI.match(head)
        return _SEVERITY[int(m.group(1)) % 8] if m is not None and int(m.group(1)) < 192 else None
    if head[:1] != b"{":
        return None
    if b'"PRIORITY"' in head:
        m = _PRIORITY.search(head)
        return _SEVERITY[int(m.group(1))] if m is not None else None
    if b'"$date"' in head[:64]:
        m = _MONGO.search(head)
        return _MONGO_LEVEL.get(m.group(1)[:1], "debug") if m is not None else None
    return None


def _text_level(head: bytes) -> str | None:
    # The case-insensitive key=value search is the slow one: only when a key could be there.
    m = _LEVEL_KV.search(head) if (b"evel" in head or b"EVEL" in head or b"lvl" in head or b"everity" in head or b"EVERITY" in head) else None
    if m is not None:
        v = m.group(1).lower()
        lv = _BUNYAN.get(v) or _NORMAL.get(v)
        if lv:
            return lv
    # JSON puts the message after its other keys (a CloudWatch event's stream name, ...).
    words = head[:512] if head[:1] == b"{" else head[:200]
    m = _LEVEL_WORD.search(words)
    if m is not None:
        return _NORMAL.get(m.group(1).lower())
    m = _LEVEL_BRACKET.search(words)
    if m is not None:
        return _NORMAL.get(m.group(1))
    if b"PHP " in words:
        m = _PHP.search(words)
        if m is not None:
            return _PHP_LEVEL.get(m.group(1), "error")
    m = _LOWER_LEVEL.search(words)
    if m is not None:
        return _NORMAL.get(m.group(1))
    if words[:1].isdigit():
        m = _REDIS.match(words)
        if m is not None:
            return _REDIS_LEVEL[m.group(1)]
    return None


def level_of(line: bytes, head_from: int = 0) -> str | None:
    """`error`, `warn`, `info`, `debug` or None, from the level a logger wrote into the line, or
    its HTTP status: a 5xx is an error at any level; with no level, a 4xx is a warning."""
    head = line[head_from : head_from + 400] if line[:1] != b"{" else line[:4096]
    lv = _written_level(head)
    if lv == "error":
        return lv
    code = http_status(line)
    if code is None:
        return lv
    if code >= 500:
        return "error"
    return lv or ("warn" if code >= 400 else "info")


def http_status(line: bytes) -> int | None:
    """The HTTP status of an access-style line (see the module doc), else None."""
    head = line[:12000]
    if b'"' in head:
        m = ACCESS_STATUS.search(head)
        if m is None:
            m = LB_STATUS.search(head)
        if m is None and b"] " in head:
            m = HAPROXY_STATUS.search(head)
        if m is not None:
            return int(m.group(1))
    m = _other_status(head)
    if m is not None:
        return int(m.group(1))
    # Every status key contains one of these: the (slow, case-insensitive) search starts just
    # before the first of them, not at the start of the line.
    # With several status keys (`status=200 upstream_status=502`) the worst one counts.
    first = min((i for i in map(head.find, _KEY_WORDS) if i >= 0), default=-1)
    if first < 0:
        return None
    return max((int(m.group(1)) for m in KEY_STATUS.finditer(head, max(0, first - 24))), default=None)


_DIGITS = tuple(b"%d" % d for d in range(10))


def _w3c_tail(head: bytes) -> bool:
    """Cheap test before the W3C regex: the line ends in four numbers, the first a status."""
    if not head.endswith(_DIGITS):
        return False  # most lines end in a word
    parts = head.rsplit(b" ", 4)
    return len(parts) == 5 and parts[1][:1] in b"12345" and len(parts[1]) == 3 and all(x.isdigit() for x in parts[1:])


def _other_status(head: bytes) -> re.Match[bytes] | None:
    """CloudFront's tab-separated status, IIS's W3C one, Rails' `Completed 500`."""
    if b"\t" in head:
        m = TAB_STATUS.search(head)
        if m is not None:
            return m
    if head[:1].isdigit() and _w3c_tail(head):
        m = W3C_STATUS.search(head)
        if m is not None:
            return m
    return RAILS_STATUS.search(head) if b"Completed " in head else None


def status_styles(lines: list[bytes]) -> set[str]:
    """Which ways of writing a status the lines use: `access` (after the request), `lb` (ALB/ELB),
    `haproxy`, `tab` (CloudFront), `w3c` (IIS), `rails` and `key` (logfmt/JSON keys)."""
    out: set[str] = set()
    for line in lines:
        head = line[:12000]
        if ACCESS_STATUS.search(head):
            out.add("access")
        elif LB_STATUS.search(head):
            out.add("lb")
        elif b"] " in head and HAPROXY_STATUS.search(head):
            out.add("haproxy")
        elif (m := _other_status(head)) is not None:
            out.add({TAB_STATUS: "tab", W3C_STATUS: "w3c"}.get(m.re, "rails"))
        elif KEY_STATUS.search(head):
            out.add("key")
    return out


def is_error(lines: list[bytes]) -> bool:
    """An error record: an error level on its opening line, or — when the line names no level —
    an exception, a traceback or a Go panic anywhere in it."""
    lv = level_of(lines[0]) if lines else None
    if lv is not None:
        return lv == "error"
    return any(_EXCEPTION.search(x[:2000]) for x in lines[:RECORD_MAX_LINES])


def traceback_opens(line: bytes, wrapper: str | None, before: bytes) -> bool:
    """Does a Python traceback start at `line` and open an error record of its own? Not after an
    error record (`before` is that record's opening line): there it is the error's own exception
    (`logger.exception`) or the next link of a chained traceback, counted with it once."""
    if not traceback(line, wrapper):
        return False
    lv = level_of(before)
    return lv != "error" and not (lv is None and _EXCEPTION.search(before[:2000]) is not None)


__all__ = ["RECORD_MAX_LINES", "http_status", "is_error", "level_of", "status_styles", "traceback_opens"]
