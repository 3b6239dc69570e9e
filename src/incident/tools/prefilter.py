"""The literal-led prefilter that finds lines which could be errors (or warnings), per file.

It over-matches on purpose; `level_of` / `is_error` decide on the few lines it finds. Which parts
it has depends on the styles a file's first lines show (access statuses, `[error]` brackets,
`level=` keys, klog letters, ALB statuses, status keys), so a plain service log pays only for
the level words.

rg takes the whole thing as one alternation (its literal prefilter handles many alternatives).
Python's regex engine does not: an alternation is scanned by its set of first bytes, and one
frequent first byte (`=` or `t` in a logfmt line) makes every part slow. So Python runs the
parts whose first bytes are frequent as separate regexes, each led by its own literal, and
merges their match offsets.
"""

from __future__ import annotations

import re

from incident.tools.levels import status_styles

# Every alternative starts with a literal: Python's regex engine then skips ahead on a set of
# first bytes (7x faster than with a leading class such as [Pp]), and rg uses its SIMD prefilter.
_TEXT_TOKENS = (r"ERROR|FATAL|SEVERE|CRIT|EMERG|ALERT|PANIC|Panic|panic|Exception|Traceback|Error|fatal error: "
                r"|Unhandled exception|PHP Fatal|PHP Parse|PHP Catchable|PHP Recoverable")
_BRACKET = r"error\]|crit\]|alert\]|emerg\]"
_ACCESS = r'" 5[0-9][0-9] '
# Up to 6 separators: `\":\"` inside an escaped JSON string; winston may colour the value.
_KV_VALUES = r"\W{1,6}(?:\\u001b\[[0-9;]*m)?(?:[Ee]rr|ERR|[Ee]ror|EROR|[Ff]atal|FATAL|[Cc]rit|CRIT|[Ee]merg|EMERG|[Aa]lert|ALERT|[Pp]anic|PANIC|dpanic|50|60)"
_KEYS = ("level", "Level", "LEVEL", "lvl", "severity", "Severity", "SEVERITY")
_KV = "|".join(k + _KV_VALUES for k in _KEYS)
_KV_WARN = "|".join(k + _KV_VALUES[:-1] + "|[Ww]arn|WARN|40)" for k in _KEYS)
# glog/klog: the leading letter is the level (also after a CRI line's head).
_GLOG = r"(?m:^)[EF][0-9]{4} [0-9][0-9]:|(?:out|err) [FP] [EF][0-9]{4} [0-9][0-9]:"
_GLOG_WARN = _GLOG.replace("[EF]", "[EFW]")
_GLOG_SAMPLE = re.compile(rb"(?m:^)[IWEF]\d{4} \d\d:\d\d:\d\d|(?:out|err) [FP] [IWEF]\d{4} \d\d:\d\d:\d\d")
# ALB/ELB: the status before the request. Status keys all end in `status` or `code`, in one of
# a few casings (`status`, `http.status_code`, `statusCode`, `DownstreamStatus`, `STATUS`).
_LB = r' {}[0-9][0-9] (?:[1-5][0-9][0-9]|0|-) [0-9]+ [0-9]+ "'
# Each is its own regex in Python (0.02 s per 24 MB). All four run, whatever the first lines use:
# a log's later lines may write its keys another way (`status=` here, `status_code=` there).
_KEY_STATUS = r'"?[ \t]*[:=][ \t]*"?{}[0-9][0-9]'
_KEY_ENDINGS = ("tatus", "TATUS", "ode", "ODE")
_OTHER_STATUS = {
    "haproxy": r"/\+?[0-9-]+ {}[0-9][0-9] ",
    "tab": r"\t{}[0-9][0-9]\t",
    "w3c": r" {}[0-9][0-9] [0-9]+ [0-9]+ [0-9]+\r?(?m:$)",
    "rails": r"Completed {}[0-9][0-9] ",
}


# Syslog severities: a PRI whose severity (PRI % 8) is 0-3 (or 4 with warnings), journald's
# PRIORITY, MongoDB's `"s"`; lower-case levels after a syslog tag (sshd's `error:`); Redis' `#`.
def _pri(top: int) -> str:
    return "(?m:^)<(?:" + "|".join(str(n) for n in range(192) if n % 8 <= top) + ")>"


_SYSLOG_TAG = re.compile(rb"(?m)[\w/.-]\[\d{1,10}\]: |^(?:<\d{1,3}>)?[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [\w/.-]+: ")
_LOWER = r": (?:error|fatal|panic|crit|critical|alert|emerg{}): "
_REDIS_SAMPLE = re.compile(rb"(?m)^\d{1,7}:[MSCX] \d{1,2} [A-Z][a-z]{2} \d{4} ")


def _severities(blob: bytes, warn: bool) -> list[str]:
    out: list[str] = []
    if re.search(rb"(?m)^<\d{1,3}>", blob):
        out.append(_pri(4 if warn else 3))
    if b'"PRIORITY"' in blob:
        out.append(r'"PRIORITY"\s*:\s*"?[0-' + ("4" if warn else "3") + ']"')
    if b'"$date"' in blob:
        out.append(r'"s"\s*:\s*"[EF' + ("W" if warn else "") + ']"')
    if _SYSLOG_TAG.search(blob):
        out.append(_LOWER.format("|warning" if warn else ""))
    if warn and _REDIS_SAMPLE.search(blob):
        out.append(r"[0-9]:[MSCX] [^\n]{20,32} # ")
    return out


class Prefilter:
    """`pattern` for rg; `starts(buf)` (sorted match offsets) and `search` for Python."""

    def __init__(self, parts: list[str], separate: list[str]):
        self.pattern = "|".join(parts + separate)
        self._rxs = [re.compile("|".join(parts).encode())] + [re.compile(p.encode()) for p in separate]

    def starts(self, buf: bytes) -> list[int]:
        if len(self._rxs) == 1:
            return [m.start() for m in self._rxs[0].finditer(buf)]
        return sorted({m.start() for rx in self._rxs for m in rx.finditer(buf)})


def prefilter(sample: list[bytes], warn: bool = False) -> Prefilter:
    """The prefilter for error lines (with `warn`, warnings too) of a file whose first lines are
    `sample`."""
    parts = [_TEXT_TOKENS + ("|WARN|Warn" if warn else "")]
    separate: list[str] = []
    blob = b"\n".join(sample)
    if re.search(rb'"[A-Z]{3,10} [^"]*" \d{3} ', blob):
        parts.append(_ACCESS + (r'|" 4[0-9][0-9] ' if warn else ""))
    if re.search(rb"\[(?:\w+:)?(?:error|warn|notice|info|debug)\]", blob):
        parts.append(_BRACKET + (r"|warn\]|warning\]" if warn else ""))
    if re.search(rb'(?i)(?:level|lvl|severity|levelname)(?:\\?")?\s*[:=]', blob):
        parts.append(_KV_WARN if warn else _KV)
    if _GLOG_SAMPLE.search(blob):
        parts.append(_GLOG_WARN if warn else _GLOG)
    separate += _severities(blob, warn)
    styles = status_styles(sample)
    codes = "[45]" if warn else "5"
    if "lb" in styles:
        separate.append(_LB.format(codes))
    for style, part in _OTHER_STATUS.items():
        if style in styles:
            separate.append(part.format(codes))
    if "key" in styles:
        separate += [end + _KEY_STATUS.format(codes) for end in _KEY_ENDINGS]
    return Prefilter(parts, separate)


def candidate_pattern(sample: list[bytes], warn: bool = False) -> str:
    """The prefilter as one regex (rg's syntax, which Python shares)."""
    return prefilter(sample, warn).pattern


__all__ = ["Prefilter", "candidate_pattern", "prefilter"]
