"""A record's level and HTTP status, as loggers and proxies write them.

Levels: key=value and JSON (`level`, `severity`, `log.level`, bunyan's numbers), bare words
(`ERROR`), brackets (nginx/Apache `[error]`, `[core:crit]`), and the leading letter of glog/klog
(`E1121 14:00:00.123456 ...`, also inside a Kubernetes CRI line), which wins over any word in
the message.

HTTP status, from access-style lines only, where the position or the key says it is one:
- common/combined/Envoy: the first 3-digit token after the quoted request (the bytes that
  follow are a size, so `" 200 502` is a success);
- AWS ALB/ELB: the status comes before the request, after the three processing times;
- logfmt/JSON keys: `status`, `status_code`, `statusCode`, `http.status`,
  `http.response.status_code` (ECS), a nested `"http": {"status": ...}`, Envoy's
  `response_code`, Traefik's `DownstreamStatus`. A duration (`503ms`) or a size is never one.
A 5xx makes a record an error whatever level its logger gave it (request logs write `info`).
"""

from __future__ import annotations

import re

RECORD_MAX_LINES = 200  # continuation lines kept with one record

_LEVEL_WORD = re.compile(
    rb"(?<![\w.-])(TRACE|DEBUG|INFO|NOTICE|WARNING|WARN|ERROR|ERR|FATAL|SEVERE|CRITICAL|CRIT|EMERG|EMERGENCY|ALERT|PANIC)(?![\w-])"
)
_LEVEL_KV = re.compile(
    rb'(?i)(?:"|\b)(?:level|lvl|severity|loglevel|log\.level|levelname|level_name)"?\s*[:=]\s*"?([a-z]+|\d{2})\b'
)
_LEVEL_BRACKET = re.compile(rb"\[(?:\w+:)?(error|crit|alert|emerg|warn|warning|notice|info|debug)\]")
_GLOG = re.compile(rb"([IWEF])\d{4} \d{2}:\d{2}:\d{2}")
_CRI_HEAD = re.compile(rb"\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:?\d{2}) (?:stdout|stderr) [FP] ")
_EXCEPTION = re.compile(rb"Traceback \(most recent call last\)|\b[A-Z]\w*(?:Exception|Error)\b|^panic: |^\s+at [\w$.]+\(")

ACCESS_STATUS = re.compile(rb'"[A-Z]{3,10} [^"]{0,8192}" (\d{3}) ')
# ALB: `... 0.000 0.001 0.000 502 502 34 366 "GET ...`; classic ELB writes -1 for times it lacks.
LB_STATUS = re.compile(rb" (?:-1|\d+\.\d+) (?:-1|\d+\.\d+) (?:-1|\d+\.\d+) ([1-5]\d\d) (?:[1-5]\d\d|-) \d+ \d+ \"")
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
    m = _GLOG.match(head)
    if m is None and b" std" in head[:64]:
        cri = _CRI_HEAD.match(head)
        if cri is not None:
            m = _GLOG.match(head, cri.end())
    if m is not None:
        return _GLOG_LEVEL[m.group(1)]
    # The case-insensitive key=value search is the slow one: only when a key could be there.
    m = _LEVEL_KV.search(head) if (b"evel" in head or b"EVEL" in head or b"lvl" in head or b"everity" in head or b"EVERITY" in head) else None
    if m is not None:
        v = m.group(1).lower()
        lv = _BUNYAN.get(v) or _NORMAL.get(v)
        if lv:
            return lv
    m = _LEVEL_WORD.search(head[:200])
    if m is not None:
        return _NORMAL.get(m.group(1).lower())
    m = _LEVEL_BRACKET.search(head[:200])
    if m is not None:
        return _NORMAL.get(m.group(1))
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
        if m is not None:
            return int(m.group(1))
    # Every status key contains one of these: the (slow, case-insensitive) search starts just
    # before the first of them, not at the start of the line.
    # With several status keys (`status=200 upstream_status=502`) the worst one counts.
    first = min((i for i in map(head.find, _KEY_WORDS) if i >= 0), default=-1)
    if first < 0:
        return None
    return max((int(m.group(1)) for m in KEY_STATUS.finditer(head, max(0, first - 24))), default=None)


def status_styles(lines: list[bytes]) -> set[str]:
    """Which ways of writing a status the lines use: `access` (after the request), `lb` (ALB/ELB)
    and `key` (logfmt/JSON keys)."""
    out: set[str] = set()
    for line in lines:
        head = line[:12000]
        if ACCESS_STATUS.search(head):
            out.add("access")
        elif LB_STATUS.search(head):
            out.add("lb")
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


__all__ = ["RECORD_MAX_LINES", "http_status", "is_error", "level_of", "status_styles"]
