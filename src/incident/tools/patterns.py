"""Log lines clustered into templates, with counts, first/last seen and what is new.

Two stages, chosen over drain3 after measuring both on Loghub-style samples (see
benchmarks/bench_logs.py): variable parts (numbers, hex ids, UUIDs, IPs, paths, quoted strings)
are masked with one regex pass, memoised on the line with its digits removed (most lines of a
template differ only in digits, so most lines cost one `bytes.translate` and a dict lookup);
then the few distinct masked templates are merged Drain-style — same token count and first
token, and at least half of the other tokens equal — with differing tokens becoming `<*>`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from incident.models import LogPattern
from incident.tools import logscan
from incident.tools.logscan import is_error, level_of
from incident.tools.records import candidate_records, record_chunks
from incident.tools.timestamps import HEAD_BYTES, LineParser, to_datetime

WILD = "<*>"
SIM = 0.5
# Every alternative but quotes starts only at a token boundary (the lookbehind): otherwise the
# digit-token branch would rescan each word from every letter, quadratic in the word's length.
_MASK = re.compile(
    rb'"[^"]{0,256}"|\'[^\']{0,256}\''
    rb"|(?<![\w.:+/-])(?:"
    rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    rb"|\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?"
    rb"|(?:[a-z][a-z0-9+.-]*:/)?(?:/[\w.~%+@:=-]*){2,}"
    rb"|0[xX][0-9a-fA-F]+"
    rb"|[\w.:+-]*?\d[\w.:+-]*"
    rb")"
)
_LEVEL_PREFIX = re.compile(rb"^[\s:|\-\[\]]*(?:TRACE|DEBUG|INFO|NOTICE|WARN(?:ING)?|ERROR|ERR|FATAL|SEVERE|CRIT(?:ICAL)?|PANIC)\b[\]:]?\s*")
_DIGITS = bytes(range(48, 58))
# Cheap prefilters: a one-line record matching neither cannot be an error (or a warning).
# (glog/klog's level letter; an HTTP status anywhere: ALB writes it before the request, and
# logfmt/JSON after a key.)
_ERROR_HINT = re.compile(
    rb'ERR|FATAL|SEVERE|CRIT|EMERG|ALERT|PANIC|[Pp]anic|Exception|Error|Traceback|err|fatal|crit|emerg|alert'
    rb'|[\s=:"]5\d\d(?:[\s",}]|$)|\W[56]0\W|^[EF]\d{4} |(?:out|err) [FP] [EF]\d{4} '
)
_WARN_HINT = re.compile(rb'WARN|[Ww]arn|[\s=:"]4\d\d(?:[\s",}]|$)|\W40\W|^W\d{4} |(?:out|err) [FP] W\d{4} | # ')


def _severity_hint(head: bytes) -> bool:
    """A syslog PRI, journald's PRIORITY or MongoDB's severity: level_of reads them (kept out of
    the hint regexes, where a leading `"` or `^` would slow every line down)."""
    return head[:1] == b"<" or (head[:1] == b"{" and (b'"PRIORITY"' in head or b'"$date"' in head))
# Message keys of common loggers and exports: journald `MESSAGE`, Cloud Logging `textPayload`,
# GELF `short_message`, OpenTelemetry `body`, Serilog `@m`/`@mt`.
_MSG_KEYS = ("msg", "message", "event", "log", "Message", "MESSAGE", "textPayload", "short_message", "body", "@m", "@mt", "error", "err")
_TIME_KEYS = frozenset(("time", "timestamp", "ts", "@timestamp", "start_time", "startTime", "receiveTimestamp", "__REALTIME_TIMESTAMP",
                        "__MONOTONIC_TIMESTAMP", "_SOURCE_REALTIME_TIMESTAMP", "__CURSOR", "insertId", "date", "datetime", "@t"))
_ANSI = re.compile(rb"\x1b\[[0-9;]*[A-Za-z]")


# Key material (base64/base64url runs of 20+ characters) is masked whole before anything else:
# the other rules would split it at `/`, `+` or `=` into pieces too short for the redactor to
# recognise, and those pieces would reach the model in the templates.
_KEY_RUN = re.compile(rb"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20,}={0,3}")
_KEY_HINT = re.compile(rb"[A-Za-z0-9+/_-]{20}")
_WORDS = re.compile(rb"[A-Z]?[a-z]{3,}|[A-Z]{3,}")


def _key_or_word(m: re.Match[bytes]) -> bytes:
    run = m.group()
    core = run.rstrip(b"=")
    if core.lower() == core or core.upper() == core:
        return run  # one case only: a word, an id or a hex digest (the digit rule masks those)
    if len(core.translate(None, _DIGITS)) < len(core) or b"+" in core or b"/" in core or len(core) < len(run):
        return b"<*>"
    # Letters only (and `-`/`_`): CamelCase and hyphenated words are mostly words, random
    # base64 letters are not.
    return run if sum(len(w) for w in _WORDS.findall(core)) >= 0.6 * len(core) else b"<*>"


def mask(message: bytes) -> bytes:
    # Key material mixes cases: a message in one case (most, once ids are hex) skips the pass.
    if message.lower() != message and message.upper() != message and _KEY_HINT.search(message) is not None:
        message = _KEY_RUN.sub(_key_or_word, message)
    return _MASK.sub(b"<*>", message)


class Miner:
    """Incremental clustering: `add` per line, `clusters()` at the end."""

    def __init__(self) -> None:
        self._memo: dict[bytes, int] = {}
        self._ids: dict[bytes, int] = {}
        self.templates: list[bytes] = []

    def add(self, message: bytes) -> int:
        key = message.translate(None, _DIGITS)
        tid = self._memo.get(key)
        if tid is None:
            t = mask(message)
            tid = self._ids.get(t)
            if tid is None:
                tid = self._ids[t] = len(self.templates)
                self.templates.append(t)
            if len(self._memo) < 500_000:
                self._memo[key] = tid
        return tid

    def merge(self) -> tuple[list[str], list[int]]:
        """Merge masked templates into clusters: (cluster templates, masked id -> cluster id)."""
        groups: dict[tuple[int, str], list[int]] = {}
        toks = [t.decode("utf-8", "replace").split() for t in self.templates]
        for i, tk in enumerate(toks):
            groups.setdefault((len(tk), tk[0] if tk else ""), []).append(i)
        out: list[list[str]] = []
        owner = [0] * len(toks)
        for ids in groups.values():
            local: list[int] = []
            for i in ids:
                tk = toks[i]
                best, best_sim = -1, SIM
                for c in local:
                    sim = _similarity(out[c], tk)
                    if sim >= best_sim:
                        best, best_sim = c, sim
                if best < 0:
                    out.append(list(tk))
                    local.append(len(out) - 1)
                    owner[i] = len(out) - 1
                else:
                    out[best] = [a if a == b else WILD for a, b in zip(out[best], tk, strict=True)]
                    owner[i] = best
        return [" ".join(t) for t in out], owner


def _similarity(a: list[str], b: list[str]) -> float:
    if len(a) <= 1:
        return 1.0 if a == b else 0.0
    same = sum(1 for x, y in zip(a[1:], b[1:], strict=True) if x == y)
    return same / (len(a) - 1)


@dataclass
class _Stat:
    count: int = 0
    first: float | None = None
    last: float | None = None
    before: int = 0
    level: str | None = None
    sample: bytes = b""


def message_of(line: bytes, parser: LineParser, with_level: bool = True) -> tuple[bytes, str | None]:
    """The part of a line that carries the message (timestamp and level removed), and its level
    (None without `with_level`: reading it is half the cost of a line)."""
    if line[:1] == b"{":
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            level = level_of(line) if with_level else None
            text = _json_message(obj)
            if text is not None:
                inner = text.rstrip("\n").encode()
                if inner[:1].isdigit() or inner[:1] in (b"[", b"{", b"<"):
                    # A whole log line inside (Docker's `log`, a CloudWatch `message`): its own
                    # stamp and level go too.
                    return message_of(inner, parser, False)[0], (level_of(inner) or level) if with_level else None
                return inner, level
            return _json_fields(obj), level
    level = level_of(line) if with_level else None
    if b"\x1b" in line:
        line = _ANSI.sub(b"", line)
    st = parser.parse(line) or parser.parse_any(line[:HEAD_BYTES])
    rest = line[st.end :] if st is not None and st.start < 40 else line
    if rest[:1] == b"]":  # the rest of a bracketed stamp, `[2026-11-21 14:00:01 -0500] ...`
        rest = rest.lstrip(b"] ")
    return _LEVEL_PREFIX.sub(b"", rest, count=1), level


def _json_message(obj: dict[str, object]) -> str | None:
    for k in _MSG_KEYS:
        v = obj.get(k)
        if isinstance(v, str) and v:
            return v
    for outer in ("jsonPayload", "fields", "data", "attr"):  # Cloud Logging, ... nest the message
        inner = obj.get(outer)
        if isinstance(inner, dict):
            for k in ("message", "msg"):
                v = inner.get(k)
                if isinstance(v, str) and v:
                    return v
    return None


def _json_fields(obj: dict[str, object]) -> bytes:
    """A JSON record without a message (Envoy's access log, a Cloud Logging request entry) as
    `key=value` pairs, one level of nesting flattened, times left out: the keys stay in the
    template and the values are masked as in any line."""
    out: list[str] = []
    for k, v in obj.items():
        if k in _TIME_KEYS:
            continue
        if isinstance(v, dict):
            out += [f"{k}.{k2}={v2}" for k2, v2 in v.items() if isinstance(v2, str | int | float | bool) and k2 not in _TIME_KEYS]
        elif isinstance(v, str | int | float | bool):
            out.append(f"{k}={v}")
    return " ".join(out)[:4000].encode("utf-8", "replace")


def _wanted(level: str | None, lines: list[bytes], want: str) -> bool:
    if want == "any":
        return True
    if level == "error" or (level is None and is_error(lines)):
        return True
    return want == "warn" and level == "warn"


_TRACEBACK = b"Traceback (most recent call last)"
_CRI_STREAM = re.compile(rb"^(?:stdout|stderr) [FP] ")  # what a CRI line keeps after its stamp
_EXC_LINE = re.compile(rb"[A-Za-z_][\w.]*(?::\s|:?$)")  # `ValueError: bad value`, `KeyboardInterrupt`


def _raised(lines: list[bytes], parser: LineParser) -> bytes | None:
    """An uncaught Python traceback is known by what it raised (its last line), not by its
    first line, which every traceback shares."""
    for line in reversed(lines[-8:]):
        text = _CRI_STREAM.sub(b"", message_of(line, parser, False)[0].strip(), count=1)
        if _EXC_LINE.match(text):
            return b"Traceback: " + text
        if text and not text.startswith((b"^", b"~")):
            return None  # cut short before its last line: keep the shared first line
    return None


def mine_records(
    records: Iterable[tuple[float | None, list[bytes]]],
    parser: LineParser,
    *,
    level: str = "error",
    new_since: float | None = None,
    miner: Miner | None = None,
    stats: dict[int, _Stat] | None = None,
    scrub: Callable[[str], str] | None = None,
) -> tuple[Miner, dict[int, _Stat]]:
    """Add the wanted records to `miner`. `scrub` (the redactor, for text bound for a model) sees
    each message before masking: masking first can cut away the context a secret is known by."""
    miner = miner or Miner()
    stats = {} if stats is None else stats
    for ts, lines in records:
        if level != "any" and len(lines) == 1:
            head = lines[0][:4096]
            if (_ERROR_HINT.search(head) is None and (level == "error" or _WARN_HINT.search(head) is None)
                    and not _severity_hint(head)):
                continue
        # At `any` a template's level is its first record's: other records skip reading theirs.
        msg, lv = message_of(lines[0], parser, with_level=level != "any")
        if len(lines) > 1 and _CRI_STREAM.sub(b"", msg.lstrip(), count=1).startswith(_TRACEBACK):
            msg = _raised(lines, parser) or msg
        if not _wanted(lv, lines, level):
            continue
        if lv is None and level != "any":
            lv = "error"  # no level written, but an exception, a traceback or a crash made it wanted
        if scrub is not None:
            msg = scrub(msg.decode("utf-8", "replace")).encode()
        tid = miner.add(msg)
        s = stats.get(tid)
        if s is None:
            if level == "any":
                lv = message_of(lines[0], parser)[1]
            s = stats[tid] = _Stat(level=lv, sample=lines[0][:500])
        s.count += 1
        if ts is not None:
            if s.first is None or ts < s.first:
                s.first = ts
            if s.last is None or ts > s.last:
                s.last = ts
            if new_since is not None and ts < new_since:
                s.before += 1
    return miner, stats


def mine_patterns(
    paths: list[Path],
    *,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
    level: Literal["any", "warn", "error"] = "error",
    new_since: datetime | None = None,
    limit: int = 50,
    scrub: Callable[[str], str] | None = None,
) -> list[LogPattern]:
    """Templates of the records in [since, until) at `level` or worse, most frequent first.

    With `new_since`, a template is `new` when it first appears at/after it and never before it
    within the window (so give a `since` early enough to hold a baseline)."""
    lo = since.timestamp() if since else None
    hi = until.timestamp() if until else None
    ns = new_since.timestamp() if new_since else None
    miner: Miner = Miner()
    stats: dict[int, _Stat] = {}
    for path in paths:
        parser = logscan.parser_for(path, now)
        mine_records(_window_records(path, parser, lo, hi, level), parser, level=level, new_since=ns, miner=miner, stats=stats,
                     scrub=scrub)
    return summarise(miner, stats, new_since=ns, limit=limit)


def summarise(miner: Miner, stats: dict[int, _Stat], *, new_since: float | None, limit: int) -> list[LogPattern]:
    names, owner = miner.merge()
    merged: dict[int, _Stat] = {}
    for tid, s in stats.items():
        c = owner[tid]
        m = merged.get(c)
        if m is None:
            merged[c] = _Stat(s.count, s.first, s.last, s.before, s.level, s.sample)
            continue
        m.count += s.count
        m.before += s.before
        if s.first is not None and (m.first is None or s.first < m.first):
            m.first, m.sample = s.first, s.sample
        if s.last is not None and (m.last is None or s.last > m.last):
            m.last = s.last
        if m.level != "error" and s.level == "error":
            m.level = s.level
    out = [
        LogPattern(
            template=names[c],
            count=s.count,
            first_seen=to_datetime(s.first),
            last_seen=to_datetime(s.last),
            level=s.level,
            sample=logscan.decode(s.sample),
            new=new_since is not None and s.before == 0 and s.first is not None and s.first >= new_since,
            count_before=s.before,
        )
        for c, s in merged.items()
    ]
    out.sort(key=lambda p: (-p.count, p.template))
    return out[:limit]


def _window_records(path: Path, parser: LineParser, lo: float | None, hi: float | None, level: str = "any") -> Iterator[tuple[float | None, list[bytes]]]:
    """The records in [lo, hi). Below `any`, only records holding a line that could make them a
    warning or an error are read (a bytes regex over whole-record chunks), not every line."""
    start, end = logscan.window_offsets(path, parser, lo, hi)
    windowed = (lo is not None or hi is not None) and parser.style is not None
    if level == "any":
        stream: Iterator[tuple[float | None, list[bytes]]] = (
            (rec.ts, rec.lines) for rec in logscan.iter_records(path, parser, start, end)
        )
    else:
        from incident.tools.prefilter import prefilter

        hint = prefilter(logscan.sample(path), warn=level == "warn")
        stream = (
            (ts, lines) for chunk in record_chunks(path, parser, start, end)
            for _, ts, lines in candidate_records(chunk, parser, hint)
        )
    for ts, lines in stream:
        if ts is not None and ((lo is not None and ts < lo) or (hi is not None and ts >= hi)):
            continue
        if ts is None and windowed:
            continue
        yield ts, lines
