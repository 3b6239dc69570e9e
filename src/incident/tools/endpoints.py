"""Errors and totals per endpoint (or service/host) named in the logs.

An endpoint is the path of `METHOD /path` anywhere in a line (access logs, and app logs that say
`POST /api/checkout failed`), else a `path=`/`route=`/`url=`… value, else a `service=`/`host=`…
value; JSON lines are read by key. Ids in paths fold to `:id`.

Speed: three literal-led bytes regexes over whole-record chunks find the named lines (one
alternation of all three is 7x slower in Python's engine); only those lines are parsed for their
time, and error records come from the timeline's literal prefilter, so a line costs nothing
unless it names an endpoint.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from incident.models import EndpointStat
from incident.tools import logscan
from incident.tools.logscan import LINE_CAP, decode, is_error
from incident.tools.prefilter import Prefilter
from incident.tools.records import candidate_records, record_chunks
from incident.tools.timestamps import LineParser

_METHOD_PATH = re.compile(rb'(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|CONNECT|TRACE) (/[^\s"?]{0,512}|[a-z][a-z0-9+.-]{0,20}://[^\s"?]{0,512})')
# One regex for both kinds of key (alternatives of plain words keep Python's engine fast).
_KV = re.compile(rb'(path|route|url|endpoint|uri|request|service|svc|app|host|hostname)="?([^\s"]{1,512})')
_KV_PATHS = frozenset((b"path", b"route", b"url", b"endpoint", b"uri", b"request"))
_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-/.")
_SPACE = frozenset(b" \t\n\r")
_ID_SEGMENT = re.compile(r"/(?:\d+|[0-9a-fA-F-]{16,}|[0-9a-fA-F]{8,})(?=/|$)")
_PATH_KEYS = ("path", "route", "url", "endpoint", "uri", "request", "http.route", "url.path")
_SVC_KEYS = ("service", "service.name", "app", "host", "hostname")
_TRAILING = b".,:;)]'\""
MAX_NAMES = 5000


def _normalise(name: str) -> str:
    name = name.split("?", 1)[0]
    if "://" in name:
        name = "/" + name.split("://", 1)[1].partition("/")[2]
    return _ID_SEGMENT.sub("/:id", name)[:200] if name.startswith("/") else name[:200]


def _json_name(line: bytes) -> str | None:
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    flat = {**obj, **{f"{k}.{k2}": v2 for k, v in obj.items() if isinstance(v, dict) for k2, v2 in v.items()}}
    for keys in (_PATH_KEYS, _SVC_KEYS):
        for k in keys:
            v = flat.get(k)
            if isinstance(v, str) and v:
                if v.split(" ")[0].isupper() and " " in v:
                    v = v.split(" ")[1]  # "GET /x HTTP/1.1"
                return v
    return None


def _line_names(line: bytes) -> bytes | None:
    """The raw name a plain-text line gives, by the rules' priority."""
    names: dict[int, bytes] = {}
    _collect(line, names)
    return names.get(0)


def endpoint_of(line: bytes) -> str | None:
    """The endpoint (path without query, ids folded to `:id`) or else the service/host a line names."""
    if line[:1] == b"{":
        name = _json_name(line)
    else:
        raw = _line_names(line)
        name = decode(raw) if raw else None
    return _normalise(name) if name else None


def _collect(buf: bytes, names: dict[int, bytes]) -> None:
    """Line start -> raw name for every line of `buf` that names one (JSON lines excluded):
    the first `METHOD /path` of the line, else its first path key, else its first service key."""
    rfind = buf.rfind
    methods: dict[int, bytes] = {}
    for m in _METHOD_PATH.finditer(buf):
        at = m.start()
        if at > 0 and buf[at - 1] in _WORD:
            continue  # part of a longer word
        start = rfind(b"\n", 0, at) + 1
        if start not in methods and buf[start : start + 1] != b"{":
            methods[start] = m.group(1)
    keyed: dict[int, bytes] = {}
    services: dict[int, bytes] = {}
    for m in _KV.finditer(buf):
        at = m.start()
        if at > 0 and buf[at - 1] not in _SPACE:
            continue  # a key must start the line or follow a space
        start = rfind(b"\n", 0, at) + 1
        into = keyed if m.group(1) in _KV_PATHS else services
        if start not in into and buf[start : start + 1] != b"{":
            value = m.group(2)
            into[start] = value.split(b"?", 1)[0] if into is keyed else value[:200]
    names.update(services)
    names.update(keyed)
    names.update(methods)
    for start, raw in list(names.items()):
        raw = raw.rstrip(_TRAILING)
        if raw:
            names[start] = raw
        else:
            del names[start]


def endpoint_stats(paths: list[Path], *, since: datetime | None, until: datetime | None, now: datetime, limit: int = 20) -> list[EndpointStat]:
    """Errors and totals per endpoint (or service/host) in [since, until), most errors first."""
    from incident.tools.prefilter import prefilter

    lo = since.timestamp() if since else None
    hi = until.timestamp() if until else None
    totals: dict[bytes, int] = {}
    errors: dict[bytes, int] = {}
    for path in paths:
        sample = logscan.sample(path)
        parser = logscan.parser_for(path, now, sample)
        hint = prefilter(sample)
        start, end = logscan.window_offsets(path, parser, lo, hi)
        for chunk in record_chunks(path, parser, start, end):
            _chunk_stats(chunk, parser, hint, lo, hi, totals, errors)
    stats: dict[str, EndpointStat] = {}
    for raw, n in totals.items():
        name = _normalise(decode(raw))
        s = stats.get(name)
        if s is None:
            if len(stats) >= MAX_NAMES:
                continue
            s = stats[name] = EndpointStat(name=name)
        s.total += n
        s.errors += errors.get(raw, 0)
    ranked = sorted(stats.values(), key=lambda s: (-s.errors, -s.total, s.name))
    return ranked[:limit]


def _chunk_stats(
    buf: bytes, parser: LineParser, hint: Prefilter, lo: float | None, hi: float | None,
    totals: dict[bytes, int], errors: dict[bytes, int],
) -> None:
    failed = {start for start, _, lines in candidate_records(buf, parser, hint) if is_error(lines)}
    names: dict[int, bytes] = {}
    _collect(buf, names)
    # JSON lines name their endpoint by key.
    pos = 0 if buf[:1] == b"{" else buf.find(b"\n{") + 1 or -1
    while pos >= 0:
        end = buf.find(b"\n", pos)
        name = _json_name(buf[pos : end if end >= 0 else len(buf)])
        if name:
            names[pos] = name.encode("utf-8", "replace")
        pos = buf.find(b"\n{", end) + 1 or -1 if end >= 0 else -1
    grouping = parser.style is not None
    # Logs are in time order (the bisection that found the window already assumes it): the
    # window's edges inside this chunk are found by bisecting it too, not by reading each line.
    a, b = 0, len(buf)
    if grouping and lo is not None:
        a = logscan.bisect_offset(buf, len(buf), parser, lo)  # type: ignore[arg-type]  # bytes has the mmap API used
    if grouping and hi is not None:
        b = logscan.bisect_offset(buf, len(buf), parser, hi)  # type: ignore[arg-type]
    find, opens = buf.find, parser.opens
    for start, raw in names.items():
        if start < a or start >= b:
            continue
        if grouping:
            nl = find(b"\n", start, start + LINE_CAP)
            if not opens(buf[start : nl if nl >= 0 else start + LINE_CAP]):
                continue  # a trace line, part of the record above it
        totals[raw] = totals.get(raw, 0) + 1
        if start in failed:
            errors[raw] = errors.get(raw, 0) + 1
