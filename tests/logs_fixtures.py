"""Small generated logs for the log tests: every timestamp style, traces, CRLF, gzip, rotation."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
T0 = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)  # two hours of log before NOW
ONSET = datetime(2026, 11, 21, 14, 10, tzinfo=UTC)
RECOVERY = datetime(2026, 11, 21, 14, 40, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def incident_lines(
    fmt: Callable[[datetime, str, str], str],
    *,
    start: datetime = T0,
    end: datetime = NOW,
    step: int = 4,
    background_every: int = 30,
    incident: tuple[datetime, datetime] | None = (ONSET, RECOVERY),
    trace: bool = True,
) -> list[str]:
    """A log with one INFO record per `step` seconds, a background ERROR every
    `background_every` seconds, and during `incident` a failing payment every 2 s with a trace."""
    out: list[str] = []
    t = start
    i = 0
    while t < end:
        out.append(fmt(t, "INFO", f"request ok id={i} took {i % 97}ms"))
        if i % (background_every // step) == 0:
            out.append(fmt(t, "ERROR", f"cache miss storm key=user:{i}"))
        if incident and incident[0] <= t < incident[1]:
            for half in (0, 2):
                tt = t + timedelta(seconds=half)
                out.append(fmt(tt, "ERROR", "payment failed order=" + str(1000 + i)))
                if trace:
                    out += ["java.lang.IllegalStateException: gateway timeout", "\tat com.shop.Pay.charge(Pay.java:42)", "Caused by: java.net.SocketTimeoutException: read timed out", "\t... 12 more"]
        t += timedelta(seconds=step)
        i += 1
    return out


def log4j(t: datetime, level: str, msg: str) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d} {level:<5} [http-nio-8080-exec-1] com.shop.Api - {msg}"


def iso_line(t: datetime, level: str, msg: str) -> str:
    return f"{iso(t)} {level} {msg}"


def write(path: Path, lines: list[str], *, crlf: bool = False, gz: bool = False) -> Path:
    data = ("\r\n" if crlf else "\n").join(lines) + ("\r\n" if crlf else "\n")
    raw = data.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


# One line per style: (style name, line, expected UTC time). Times chosen so every style agrees.
AT = datetime(2026, 11, 21, 14, 33, 1, tzinfo=UTC)
STYLE_LINES: list[tuple[str, str, datetime]] = [
    ("iso T Z", "2026-11-21T14:33:01Z ERROR boom", AT),
    ("iso space millis comma", "2026-11-21 14:33:01,250 ERROR boom", AT + timedelta(milliseconds=250)),
    ("iso dot micros offset", "2026-11-21T16:33:01.000500+02:00 ERROR boom", AT + timedelta(microseconds=500)),
    ("iso negative offset no colon", "2026-11-21T09:33:01-0500 ERROR boom", AT),
    ("iso nanos", "2026-11-21T14:33:01.123456789Z boom", AT + timedelta(microseconds=123457)),
    ("syslog", "Nov 21 14:33:01 web-1 nginx[123]: upstream timed out", AT),
    ("syslog single-digit day", "Nov  1 14:33:01 web-1 cron[1]: ok", datetime(2026, 11, 1, 14, 33, 1, tzinfo=UTC)),
    ("syslog with priority", "<34>Nov 21 14:33:01 web-1 su: fail", AT),
    ("apache error", "[Sat Nov 21 14:33:01 2026] [error] [client 10.0.0.1] File does not exist", AT),
    ("apache error micros", "[Sat Nov 21 14:33:01.250000 2026] [core:error] [pid 1] AH00124: loop", AT + timedelta(milliseconds=250)),
    ("access log", '10.0.0.1 - - [21/Nov/2026:15:33:01 +0100] "GET /api/cart?id=1 HTTP/1.1" 503 12 "-" "curl"', AT),
    ("epoch seconds", "1795271581 ERROR boom", AT),
    ("epoch millis", "1795271581250 ERROR boom", AT + timedelta(milliseconds=250)),
    ("glog", "E1121 14:33:01.250000    7 server.go:12] failed", AT + timedelta(milliseconds=250)),
    ("logstash ecs", json.dumps({"@timestamp": "2026-11-21T14:33:01.000Z", "log.level": "error", "message": "boom"}), AT),
    ("structlog", json.dumps({"event": "boom", "level": "error", "timestamp": "2026-11-21T14:33:01Z"}), AT),
    ("bunyan", json.dumps({"name": "api", "level": 50, "msg": "boom", "time": "2026-11-21T14:33:01.000Z", "v": 0}), AT),
    ("pino millis", json.dumps({"level": 50, "time": 1795271581000, "msg": "boom"}), AT),
    ("zap float ts", json.dumps({"level": "error", "ts": 1795271581.5, "msg": "boom"}), AT + timedelta(milliseconds=500)),
    ("logfmt", 'ts=2026-11-21T14:33:01Z level=error msg="boom"', AT),
    ("logfmt epoch", "ts=1795271581 level=error msg=boom", AT),
    ("docker json-file", json.dumps({"log": "2026-11-21 14:33:01,000 ERROR inner boom\n", "stream": "stderr", "time": "2026-11-21T14:33:01.000000001Z"}), AT),
]
