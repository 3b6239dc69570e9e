"""Timestamps as real logs write them, read at the bytes level, always as UTC epoch seconds.

Styles: ISO 8601 (T, space or tab — CloudFront — between date and time, `,`/`.` fractions, Z,
offsets — also after a space, gunicorn's `-0500`, Postgres' `+01` — and common zone abbreviations;
log4j's `yyyy-MM-dd HH:mm:ss,SSS` is one), `yyyy/mm/dd HH:MM:SS(.frac)` (Go's log package, nginx's
error.log), syslog `MMM d HH:mm:ss` (no year: taken from the clock, so a December line read in
January is last year's), glog/klog `E1121 14:33:01.123456`, Apache error `[Sat Nov 21 14:33:01(.uuuuuu) 2026]`,
access logs `[21/Nov/2026:14:33:01 +0000]` (HAProxy's `[21/Nov/2026:14:33:01.123]` and Django's
`[21/Nov/2026 14:33:01]` without a zone), Tomcat/PHP `21-Nov-2026 14:33:01`, Redis `1:M 21 Nov 2026
14:33:01.123`, a time of day alone (logback's default pattern: the date is the clock's), epoch
seconds/millis at the start of a line, and JSON lines (`@timestamp`, `timestamp`, `time`, `ts`,
Envoy's `start_time`, journald's `__REALTIME_TIMESTAMP`, MongoDB's `$date`, ... as string or
number). Naive times are taken as UTC. W3C header lines (`#Date: ...`) open no record; in a
container or journald log, a stamped trace line continues its record (`continuation.py`).

Speed matters more than elegance here: a 1 GB log has millions of lines. Regexes are compiled once,
the expensive calendar arithmetic is cached per minute (`head` group + zone), and a `LineParser`
remembers which style a file uses so most lines cost one anchored regex match.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from incident.tools.continuation import continues, wrapper_of

HEAD_BYTES = 320  # a timestamp further into a line than this is not the line's own time
JSON_BYTES = 65536

_MONTHS = {m.encode(): i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_MON = rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
# Zone abbreviations that name one offset (Postgres writes `log_timezone`'s, `date` its own); an
# ambiguous one (IST, CST in China) is read as the common one and better than none.
_ABBREV = {
    b"UTC": 0, b"GMT": 0, b"WET": 0, b"BST": 60, b"WEST": 60, b"CET": 60, b"CEST": 120, b"EET": 120, b"EEST": 180, b"MSK": 180,
    b"IST": 330, b"JST": 540, b"KST": 540, b"AEST": 600, b"AEDT": 660, b"NZST": 720, b"NZDT": 780,
    b"EST": -300, b"EDT": -240, b"CST": -360, b"CDT": -300, b"MST": -420, b"MDT": -360, b"PST": -480, b"PDT": -420,
}


def _by_first_letter(names: list[bytes]) -> bytes:
    # `E(?:EST|DT|ET|ST)|...`: the regex engine rejects a word (`INFO`, `ERROR`) on its first
    # letters instead of trying every name; the longest first (CEST before CET).
    groups: dict[bytes, list[bytes]] = {}
    for n in sorted(names, key=lambda z: (-len(bytes(z)), z)):
        groups.setdefault(n[:1], []).append(n[1:])
    return b"|".join(k + b"(?:" + b"|".join(v) + b")" for k, v in sorted(groups.items()))


_ZONE_ALT = _by_first_letter(list(_ABBREV))
# A numeric zone may follow after a space (gunicorn's `%z`, Postgres' `+01`), but only as a whole
# token: `14:00:01 -1 retries` is no zone.
_TZ = (rb"(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?(?![\d:])| [+-]\d{2}(?::?\d{2})?(?=[\s\]]|$)"
       rb"| ?(?:" + _ZONE_ALT + rb")\b)?")

# Each style: (name, regex). `head` is the part that changes once a minute (the cache key);
# `sec`/`frac`/`tz` are read on every line.
_STYLES: list[tuple[str, re.Pattern[bytes]]] = [
    # CloudFront and other W3C logs separate the date and the time with a tab.
    ("iso", re.compile(rb"(?P<head>(?P<Y>\d{4})-(?P<M>\d{2})-(?P<D>\d{2})[T \t](?P<h>\d{2}):(?P<m>\d{2})):(?P<sec>\d{2})(?:[.,](?P<frac>\d{1,9}))?" + _TZ)),
    ("slash", re.compile(rb"(?P<head>(?P<Y>\d{4})/(?P<M>\d{2})/(?P<D>\d{2})[T ](?P<h>\d{2}):(?P<m>\d{2})):(?P<sec>\d{2})(?:[.,](?P<frac>\d{1,9}))?" + _TZ)),
    # Access logs `[21/Nov/2026:14:33:01 +0000]`; HAProxy writes milliseconds and no zone, Django's
    # runserver a space and no zone (both local time, read as UTC).
    ("access", re.compile(rb"\[(?P<head>(?P<D>\d{2})/(?P<Mon>" + _MON + rb")/(?P<Y>\d{4})[: ](?P<h>\d{2}):(?P<m>\d{2})):(?P<sec>\d{2})(?:\.(?P<frac>\d{1,9}))?(?: (?P<tz>[+-]\d{4}))?\]")),
    ("apache", re.compile(rb"\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?P<head>(?P<Mon>" + _MON + rb") {1,2}(?P<D>\d{1,2}) (?P<h>\d{2}):(?P<m>\d{2})):(?P<sec>\d{2})(?:\.(?P<frac>\d{1,9}))? (?P<Y>\d{4})\]")),
    ("syslog", re.compile(rb"(?:<\d{1,3}>)?(?P<head>(?P<Mon>" + _MON + rb") {1,2}(?P<D>\d{1,2}) (?P<h>\d{2}):(?P<m>\d{2})):(?P<sec>\d{2})(?:\.(?P<frac>\d{1,9}))?(?!\d)")),
    ("glog", re.compile(rb"[IWEF](?P<head>(?P<M>\d{2})(?P<D>\d{2}) (?P<h>\d{2}):(?P<m>\d{2})):(?P<sec>\d{2})(?:\.(?P<frac>\d{1,9}))?\s")),
    # Tomcat/catalina `21-Nov-2026 14:33:01.123`, PHP's error log `[21-Nov-2026 14:33:01 UTC]`;
    # Redis `1:M 21 Nov 2026 14:33:01.123`.
    ("dmy", re.compile(rb"(?P<head>(?P<D>\d{2})-(?P<Mon>" + _MON + rb")-(?P<Y>\d{4}) (?P<h>\d{2}):(?P<m>\d{2})):(?P<sec>\d{2})(?:[.,](?P<frac>\d{1,9}))?" + _TZ)),
    ("redis", re.compile(rb"\d{1,7}:[MSCX] (?P<head>(?P<D>\d{1,2}) (?P<Mon>" + _MON + rb") (?P<Y>\d{4}) (?P<h>\d{2}):(?P<m>\d{2})):(?P<sec>\d{2})(?:\.(?P<frac>\d{1,9}))?")),
    # Time of day only (logback's and log4j2's default patterns): the date is the clock's.
    ("clock", re.compile(rb"(?P<head>(?P<h>[01]\d|2[0-3]):(?P<m>[0-5]\d)):(?P<sec>[0-5]\d)(?:[.,](?P<frac>\d{1,9}))?(?=[ \t])")),
    ("epoch", re.compile(rb"(?P<epoch>1\d{9}(?:\.\d{1,9})?|1\d{12}(?:\.\d+)?)(?![\d.])")),
]
_BY_NAME = dict(_STYLES)
# The styles that may sit at the very start of a line; the others are searched for in its head.
_AT_START = ("iso", "slash", "syslog", "glog", "epoch", "apache", "dmy", "redis", "clock")
_SEARCHED = ("iso", "slash", "access", "apache", "dmy")
_IN_JSON = ("iso", "slash", "access", "apache", "syslog")
_ZONED = ("iso", "slash", "access", "dmy")
# Loggers' time keys: ECS/logstash, structlog, bunyan/pino/zap, Docker, Envoy/Istio (`start_time`),
# journald (`__REALTIME_TIMESTAMP`, microseconds), Serilog (`@t`, `Timestamp`), log4j2's JsonLayout
# (`timeMillis`, `instant.epochSecond`), MongoDB (`"t":{"$date":...}`), CloudWatch (`timestamp`, ms).
_JSON_TIME = re.compile(
    rb'"(?:@timestamp|timestamp|time|ts|datetime|date|eventTime|asctime|logtime|t|start_time|startTime|__REALTIME_TIMESTAMP'
    rb'|@t|Timestamp|timeMillis|epochSecond|\$date)"\s*:\s*(?:"(?P<s>[^"]{6,40})"|(?P<n>\d{9,19}(?:\.\d+)?))'
)
_DIRECTIVE = re.compile(rb"#[A-Za-z][\w-]{0,30}[:\t]")
_LOGFMT_EPOCH = re.compile(rb"(?:^|\s)(?:ts|time|t)=(?P<n>1\d{9}(?:\.\d+)?|1\d{12})(?![\d.])")


def epoch_from_number(text: bytes | str | float) -> float | None:
    """Epoch seconds from seconds, millis, micros or nanos (told apart by magnitude)."""
    try:
        x = float(text)
    except (TypeError, ValueError):
        return None
    for scale in (1.0, 1e3, 1e6, 1e9):
        if x < 1e11 * scale:
            v = x / scale
            return v if 9.4e8 < v < 1e10 else None  # 2000-2286: anything else is not a time
    return None


@dataclass
class Stamp:
    ts: float  # epoch seconds, UTC
    start: int  # where the timestamp starts in the line
    minute_end: int  # offset just after the minute ("2026-11-21T14:33"); -1 when it has none (epoch)
    end: int  # offset just after the timestamp
    style: str


@dataclass
class LineParser:
    """Parses line heads; remembers the file's style and caches the per-minute arithmetic.

    `now` dates year-less styles (syslog, glog): the year that puts the line at or before `now`
    (a day of slack for clock skew), so a December line read on 2 January is last December.
    """

    now: datetime
    style: str | None = None
    anchored: bool = False  # the file's timestamps all start at `prefix_len`
    prefix_len: int = 0
    cri: bool = False  # a Kubernetes container log: `<time> stdout|stderr F|P <line>`
    wrapper: str | None = None  # `cri`, `docker`, `syslog`: every line stamped, traces too (continuation.py)
    shifted: bool = False  # an anchored file had a stamp at another offset: not every record shares the prefix
    _cache: dict[tuple[str, bytes | None, bytes | None], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._now_ts = self.now.timestamp()
        if self.wrapper is not None:
            # Bound once: the unwrapped parse (most files) pays nothing for the check.
            self.parse = self._parse_wrapped  # type: ignore[method-assign]

    def _parse_wrapped(self, line: bytes) -> Stamp | None:
        st = LineParser.parse(self, line)
        if st is not None and self.wrapper is not None and continues(line, st.end, self.wrapper):
            return None  # a stamped trace line: it continues the record before it
        return st

    def own_time(self, line: bytes, default: float | None) -> float | None:
        """The time of a line that opens a record although `parse` takes it for a continuation
        (a traceback in a container log carries its own stamp); `default` when it has none."""
        if self.wrapper is None:
            return default
        st = LineParser.parse(self, line)
        return default if st is None else st.ts

    def parse(self, line: bytes) -> Stamp | None:
        if line[:1] == b"{":
            # JSON keeps its time wherever the logger put it: Docker's json-file puts it last.
            return self._json(line[:JSON_BYTES])
        head = line[:HEAD_BYTES]
        if self.style is not None:
            rx = _BY_NAME.get(self.style)
            if rx is not None:
                if self.anchored:
                    m = rx.match(head, self.prefix_len)
                elif head[:1] == b"#" and _DIRECTIVE.match(head):
                    return None  # W3C/Zeek header lines (`#Date: 2026-11-21 ...`) are not records
                else:
                    m = rx.search(head)
                if m is not None:
                    st = self._stamp(self.style, m)
                    if st is not None:
                        return st
            if self.anchored:
                # Anchored files are strict: a date inside a stack trace line does not open a record.
                return self._json(head) if self.style == "json" else self._shifted(head)
        return self.parse_any(head)

    def _shifted(self, head: bytes) -> Stamp | None:
        """A stamp of the file's style a few bytes from where its first lines had it: the first
        lines did not show every prefix (ALB writes `http `, `https ` and `h2 `). An indented line
        is a trace line, and a date further in is part of a message. Once seen, records can no
        longer be counted by their prefix (`shifted`)."""
        if head[:1] in (b" ", b"\t", b"", b"#") or self.style is None:
            return None
        rx = _BY_NAME[self.style]
        m = rx.search(head, 0, self.prefix_len + 64)
        if m is None or m.start() > self.prefix_len + 8:
            return None
        st = self._stamp(self.style, m)
        if st is not None:
            self.shifted = True
        return st

    def opens(self, line: bytes) -> bool:
        """Does this line carry a timestamp (open a record)? For a file whose stamps sit at a fixed
        offset this is one anchored match, without the arithmetic of `parse`."""
        if self.anchored and line[:1] != b"{":
            rx = _BY_NAME.get(self.style or "")
            if rx is not None and rx.match(line[:HEAD_BYTES], self.prefix_len) is not None:
                return True
        return self.parse(line) is not None

    def parse_any(self, head: bytes) -> Stamp | None:
        if head[:1] == b"#" and _DIRECTIVE.match(head):
            return None
        if head.lstrip()[:1] == b"{":
            st = self._json(head[:JSON_BYTES])
            if st is not None:
                return st
        head = head[:HEAD_BYTES]
        for name in _AT_START:
            m = _BY_NAME[name].match(head)
            if m is not None and (st := self._stamp(name, m)) is not None:
                return st
        for name in _SEARCHED:
            m = _BY_NAME[name].search(head)
            if m is not None and (st := self._stamp(name, m)) is not None:
                return st
        m = _LOGFMT_EPOCH.search(head)
        if m is not None:
            v = epoch_from_number(m.group("n"))
            if v is not None:
                return Stamp(v, m.start("n"), -1, m.end("n"), "epoch")
        return None

    def _json(self, head: bytes) -> Stamp | None:
        m = _JSON_TIME.search(head)
        if m is None:
            return None
        if m.group("n") is not None:
            v = epoch_from_number(m.group("n"))
            return None if v is None else Stamp(v, m.start("n"), -1, m.end("n"), "json")
        s = m.group("s")
        for name in _IN_JSON:
            mm = _BY_NAME[name].match(s)
            if mm is not None and (st := self._stamp(name, mm)) is not None:
                off = m.start("s")
                return Stamp(st.ts, off, off + st.minute_end, off + st.end, "json")
        v = epoch_from_number(s)
        return None if v is None else Stamp(v, m.start("s"), -1, m.end("s"), "json")

    def _stamp(self, name: str, m: re.Match[bytes]) -> Stamp | None:
        if name == "epoch":
            v = epoch_from_number(m.group("epoch"))
            return None if v is None else Stamp(v, m.start(), -1, m.end(), name)
        head, sec, frac, tz = m.group("head", "sec", "frac", "tz") if name in _ZONED else (*m.group("head", "sec", "frac"), None)
        key = (name, head, tz)
        base = self._cache.get(key)
        if base is None:
            base = self._minute(name, m, tz)
            if base is None:
                return None
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = base
        ts = base + int(sec or 0)
        if frac:
            ts += int(frac) / 10 ** len(frac)
        return Stamp(ts, m.start(), m.end("head"), m.end(), name)

    def _minute(self, name: str, m: re.Match[bytes], tz: bytes | None) -> float | None:
        g = m.groupdict()
        if name == "clock":
            base = self.now.replace(hour=int(g["h"]), minute=int(g["m"]), second=0, microsecond=0).timestamp()
            # A time later than now (an hour of slack for skew) is yesterday's.
            return base - 86400 if base > self._now_ts + 3600 else base
        try:
            month = _MONTHS[g["Mon"]] if g.get("Mon") else int(g["M"])
            day, hour, minute = int(g["D"]), int(g["h"]), int(g["m"])
            if name in ("syslog", "glog"):
                year = self.now.year
                base = _utc_epoch(year, month, day, hour, minute)
                if base > self._now_ts + 86400:
                    base = _utc_epoch(year - 1, month, day, hour, minute)
                return base
            base = _utc_epoch(int(g["Y"]), month, day, hour, minute)
        except (ValueError, KeyError, TypeError):
            return None
        return base - _offset_seconds(tz)


def _utc_epoch(y: int, mo: int, d: int, h: int, mi: int) -> float:
    # Years far from now are not times a log line means (and past 9999 Python has no datetime).
    if not (1900 <= y <= 2999 and 1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60):
        raise ValueError("out of range")
    if d > calendar.monthrange(y, mo)[1]:
        raise ValueError("no such day")
    return float(calendar.timegm((y, mo, d, h, mi, 0)))


def _offset_seconds(tz: bytes | None) -> int:
    if not tz:
        return 0
    tz = tz.strip()
    if tz in (b"Z", b"z"):
        return 0
    if tz[:1] not in (b"+", b"-"):
        return _ABBREV.get(tz, 0) * 60
    sign = -1 if tz[:1] == b"-" else 1
    digits = tz[1:].replace(b":", b"")
    hours = int(digits[:2])
    minutes = int(digits[2:4] or b"0")
    return sign * (hours * 3600 + minutes * 60)


def detect(lines: list[bytes], now: datetime) -> LineParser:
    """A parser tuned to a file from a sample of its lines: its style, and whether every
    timestamp sits at the same offset after the same bytes (then it is matched there only,
    and records can be counted by their minute prefix)."""
    probe = LineParser(now)
    counts: dict[str, int] = {}
    prefixes: set[bytes] = set()
    cri = 0
    stamps: list[tuple[bytes, int]] = []
    for line in lines:
        # An indented line continues a record, whatever date its text mentions.
        st = probe.parse_any(line) if line[:1] not in (b" ", b"\t") else None
        if st is None:
            continue
        stamps.append((line, st.end))
        counts[st.style] = counts.get(st.style, 0) + 1
        prefixes.add(line[: st.start])
        cri += _CRI_TAG.match(line, st.end) is not None
    if not counts:
        return LineParser(now)
    style = max(counts, key=lambda k: counts[k])
    parser = LineParser(now, style=style, wrapper=wrapper_of(style, stamps))
    if len(prefixes) == 1 and style not in ("json",):
        parser.anchored = True
        parser.prefix_len = len(next(iter(prefixes)))
        parser.cri = style == "iso" and parser.prefix_len == 0 and cri == sum(counts.values())
    return parser


_CRI_TAG = re.compile(rb" (?:stdout|stderr) [FP] ")
_ISO_MINUTE = re.compile(rb"(\d{4})-(\d{2})-(\d{2})[T \t](\d{2}):(\d{2})(?:Z|z|[+-]\d{2}(?::?\d{2})?)?$")


def iso_minute(key: bytes) -> float | None:
    """UTC epoch of `2026-11-21T14:33` plus an optional zone (`Z`, `+02:00`, `-0500`), else None."""
    m = _ISO_MINUTE.match(key)
    if m is None:
        return None
    try:
        base = _utc_epoch(*(int(g) for g in m.groups()))
    except ValueError:
        return None
    return base - _offset_seconds(key[16:] or None)


def to_datetime(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def parse_timestamp(text: str | bytes, now: datetime) -> datetime | None:
    """One-off parse of a timestamp anywhere in the head of `text` (tests, deploy files)."""
    raw = text.encode("utf-8", "replace") if isinstance(text, str) else text
    st = LineParser(now).parse_any(raw)
    return None if st is None else to_datetime(st.ts)


__all__ = ["LineParser", "Stamp", "detect", "epoch_from_number", "iso_minute", "parse_timestamp", "to_datetime", "HEAD_BYTES"]
