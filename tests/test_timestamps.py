from __future__ import annotations

from datetime import UTC, datetime

import pytest

from incident.tools.logscan import level_of
from incident.tools.timestamps import LineParser, detect, epoch_from_number, parse_timestamp
from logs_fixtures import NOW, STYLE_LINES


@pytest.mark.parametrize(("name", "line", "expected"), STYLE_LINES, ids=[s[0] for s in STYLE_LINES])
def test_every_style_parses_to_utc(name: str, line: str, expected: datetime) -> None:
    got = parse_timestamp(line, NOW)
    assert got is not None, name
    assert got.tzinfo is not None and got.utcoffset().total_seconds() == 0
    assert abs((got - expected).total_seconds()) < 1e-3


@pytest.mark.parametrize(("name", "line", "expected"), STYLE_LINES, ids=[s[0] for s in STYLE_LINES])
def test_detected_parser_agrees_with_generic(name: str, line: str, expected: datetime) -> None:
    parser = detect([line.encode()] * 5, NOW)
    st = parser.parse(line.encode())
    assert st is not None
    assert abs(st.ts - expected.timestamp()) < 1e-3


def test_syslog_year_comes_from_the_clock_and_december_read_in_january_is_last_year() -> None:
    jan = datetime(2027, 1, 2, 0, 10, tzinfo=UTC)
    assert parse_timestamp("Dec 31 23:59:00 host app: x", jan) == datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    assert parse_timestamp("Jan  2 00:05:00 host app: x", jan) == datetime(2027, 1, 2, 0, 5, tzinfo=UTC)
    assert parse_timestamp("Feb 29 10:00:00 host app: x", datetime(2028, 3, 1, tzinfo=UTC)) == datetime(2028, 2, 29, 10, tzinfo=UTC)


def test_not_a_timestamp() -> None:
    for text in ("hello world", "2026-13-40T99:99:99Z nope", "Feb 30 10:00:00 x", "12345 short number", "", "\tat com.x.Y(Y.java:1)"):
        assert parse_timestamp(text, NOW) is None, text


def test_epoch_magnitudes() -> None:
    assert epoch_from_number(b"1795271581") == 1795271581
    assert epoch_from_number(b"1795271581000") == 1795271581
    assert epoch_from_number(b"1795271581000000") == 1795271581
    assert epoch_from_number(b"1795271581000000000") == 1795271581
    assert epoch_from_number(b"42") is None


def test_anchored_parser_ignores_dates_inside_trace_lines() -> None:
    lines = [b"2026-11-21 14:33:01,000 ERROR x", b"2026-11-21 14:33:02,000 INFO y"]
    p = detect(lines, NOW)
    assert p.anchored and p.prefix_len == 0
    assert p.parse(b"\tat renew(expires 2026-01-01 00:00:00)") is None
    assert p.parse(b"2026-11-21 14:33:05,000 INFO z") is not None


def test_minute_cache_does_not_mix_zones() -> None:
    p = LineParser(NOW, style="iso")
    a = p.parse(b"2026-11-21T14:33:01+02:00 x")
    b = p.parse(b"2026-11-21T14:33:01Z x")
    assert a is not None and b is not None and b.ts - a.ts == 7200


@pytest.mark.parametrize(
    ("line", "level"),
    [
        (b"2026-11-21 14:33:01,000 ERROR [main] x", "error"),
        (b"2026-11-21 14:33:01,000 WARN [main] x", "warn"),
        (b"2026-11-21 14:33:01,000 INFO [main] an ERROR-free line", "info"),
        (b'{"level":50,"msg":"x"}', "error"),
        (b'{"level":30,"msg":"x"}', "info"),
        (b'{"log.level":"error","message":"x"}', "error"),
        (b"ts=1 level=error msg=x", "error"),
        (b"ts=1 lvl=eror msg=x", "error"),
        (b"[Sat Nov 21 14:33:01 2026] [core:error] [pid 1] x", "error"),
        (b"E1121 14:33:01.250000    7 server.go:12] failed", "error"),
        (b'1.2.3.4 - - [21/Nov/2026:14:33:01 +0000] "GET / HTTP/1.1" 502 0', "error"),
        (b'1.2.3.4 - - [21/Nov/2026:14:33:01 +0000] "GET / HTTP/1.1" 404 0', "warn"),
        (b"plain text with no level", None),
    ],
)
def test_levels(line: bytes, level: str | None) -> None:
    assert level_of(line) == level
