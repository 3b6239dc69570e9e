"""Log styles real systems write (Go log, nginx error.log, klog, CRI, ALB, logfmt/JSON request
logs, ...): timestamps parsed, levels and 5xx statuses read, the onset found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from incident.tools.logscan import http_status, iter_records, level_of, parser_for
from incident.tools.patterns import mine_patterns
from incident.tools.timeline import error_timeline
from incident.tools.timestamps import parse_timestamp
from logs_rw_fixtures import END, NOW, ONSET, STYLES, T0, write_style


@pytest.mark.parametrize("name", sorted(STYLES))
def test_every_style_gives_its_errors_and_the_onset(tmp_path: Path, name: str) -> None:
    path, records, errors = write_style(tmp_path, name)
    tl = error_timeline([path], since=NOW - timedelta(hours=3), until=NOW, now=NOW)
    assert tl.lines_without_time == 0, name
    assert tl.total_lines == records, name
    assert tl.error_lines == errors, name
    assert tl.onset is not None and abs((tl.onset - ONSET).total_seconds()) <= 60, (name, tl.onset)


@pytest.mark.parametrize("name", sorted(STYLES))
def test_every_style_without_totals_counts_the_same_errors(tmp_path: Path, name: str) -> None:
    path, _, errors = write_style(tmp_path, name)
    tl = error_timeline([path], since=T0, until=END, now=NOW, totals=False)
    assert tl.error_lines == errors
    assert tl.onset is not None and abs((tl.onset - ONSET).total_seconds()) <= 60


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2026/11/21 14:33:01 ERROR: boom", datetime(2026, 11, 21, 14, 33, 1, tzinfo=UTC)),
        ("2026/11/21 14:33:01.250000 http: TLS handshake error", datetime(2026, 11, 21, 14, 33, 1, 250000, tzinfo=UTC)),
        ("2026/11/21 14:33:01 [error] 123#0: *1 connect() failed", datetime(2026, 11, 21, 14, 33, 1, tzinfo=UTC)),
        ("myapp: 2026/11/21 14:33:01 main.go:12: starting", datetime(2026, 11, 21, 14, 33, 1, tzinfo=UTC)),
        ("E1121 14:33:01.123456   12345 server.go:123] failed", datetime(2026, 11, 21, 14, 33, 1, 123456, tzinfo=UTC)),
        ("2026-11-21T14:33:01.123456789Z stdout F hello", datetime(2026, 11, 21, 14, 33, 1, 123457, tzinfo=UTC)),
        ("<11>1 2026-11-21T14:33:01.250Z host app 123 - - ERROR boom", datetime(2026, 11, 21, 14, 33, 1, 250000, tzinfo=UTC)),
    ],
)
def test_real_world_timestamps(line: str, expected: datetime) -> None:
    got = parse_timestamp(line, NOW)
    assert got is not None and abs((got - expected).total_seconds()) < 1e-3


def test_klog_year_comes_from_the_clock() -> None:
    jan = datetime(2027, 1, 2, 0, 10, tzinfo=UTC)
    assert parse_timestamp("E1231 23:59:00.000000   1 a.go:1] x", jan) == datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    assert parse_timestamp("I0102 00:05:00.000000   1 a.go:1] x", jan) == datetime(2027, 1, 2, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("2026/11/21 14:00:00 [error] 123#0: *1 connect() failed", "error"),
        ("2026/11/21 14:00:00 [crit] 123#0: SSL_do_handshake() failed", "error"),
        ("2026/11/21 14:00:00 [alert] 123#0: worker process exited on signal 9", "error"),
        ("2026/11/21 14:00:00 [emerg] 123#0: bind() to 0.0.0.0:80 failed", "error"),
        ("2026/11/21 14:00:00 [warn] 123#0: an upstream response is buffered", "warn"),
        ("E1121 14:00:00.123456   12345 server.go:123] failed to sync pod", "error"),
        ("F1121 14:00:00.123456   12345 server.go:123] unrecoverable", "error"),
        ("W1121 14:00:00.123456   12345 server.go:123] slow", "warn"),
        ("I1121 14:00:00.123456   12345 server.go:123] recovered from ERROR state", "info"),
        ("2026-11-21T14:00:00.1Z stderr F E1121 14:00:00.123456   1 server.go:1] failed", "error"),
    ],
)
def test_levels_of_real_world_styles(line: str, level: str) -> None:
    assert level_of(line.encode()) == level


@pytest.mark.parametrize(
    ("line", "status"),
    [
        ('10.0.0.1 - - [21/Nov/2026:14:00:00 +0000] "GET / HTTP/1.1" 200 502 "-" "curl"', 200),
        ('10.0.0.1 - - [21/Nov/2026:14:00:00 +0000] "GET / HTTP/1.1" 503 12 "-" "curl"', 503),
        ('[2026-11-21T14:00:00.000Z] "GET /api HTTP/1.1" 200 - 0 503 3 - "-" "curl"', 200),
        ('http 2026-11-21T14:00:00.123456Z app/my-lb/50dc 1.2.3.4:2817 10.0.0.1:80 0.000 0.001 0.000 502 502 34 366 '
         '"GET http://x/api HTTP/1.1" "curl/7.46.0" - -', 502),
        ('2026-11-21T14:00:00.123456Z my-elb 1.2.3.4:2817 10.0.0.1:80 -1 -1 -1 504 - 0 0 "GET http://x:80/ HTTP/1.1" "-" - -', 504),
        ('http 2026-11-21T14:00:00.1Z app/lb/1 1.2.3.4:1 10.0.0.1:80 0.000 0.001 0.000 200 200 34 503 "GET http://x/ HTTP/1.1" "-" - -', 200),
        ("ts=2026-11-21T14:00:00Z level=info status=503 duration=12ms", 503),
        ("ts=2026-11-21T14:00:00Z level=info status_code=502", 502),
        ("ts=2026-11-21T14:00:00Z level=info http.status=500 path=/x", 500),
        ('{"level":"info","status":503}', 503),
        ('{"level":"info","status_code":"502"}', 502),
        ('{"http.response.status_code": 500, "message": "done"}', 500),
        ('{"http": {"method": "GET", "status": 504}, "msg": "done"}', 504),
        ('{"DownstreamStatus": 502, "level": "info"}', 502),
        ("ts=2026-11-21T14:00:00Z level=info status=200 upstream_status=502", 502),  # the worst one
        ("ts=2026-11-21T14:00:00Z level=info took=503ms", None),
        ("ts=2026-11-21T14:00:00Z level=info exit_status=500", None),
        ('{"level":"info","bytes":502,"took_ms":503}', None),
        ("2026-11-21 14:00:00 INFO GET /api/orders/1 200 503ms user=7", None),
    ],
)
def test_http_status_of_access_style_lines(line: str, status: int | None) -> None:
    assert http_status(line.encode()) == status
    if status is not None and status >= 500:
        assert level_of(line.encode()) == "error"


def test_an_info_request_log_with_a_5xx_status_is_an_error_and_an_error_level_stays_one() -> None:
    assert level_of(b"ts=x level=info msg=done status=503") == "error"
    assert level_of(b"ts=x level=info msg=done status=404") == "info"
    assert level_of(b"ts=x level=error msg=failed status=200") == "error"
    assert level_of(b'10.0.0.1 - - [21/Nov/2026:14:00:00 +0000] "GET / HTTP/1.1" 404 1 "-" "-"') == "warn"


def test_cri_partial_lines_are_joined_with_the_line_that_completes_them(tmp_path: Path) -> None:
    path, records, errors = write_style(tmp_path, "cri.log")
    lines = path.read_text().splitlines()
    assert sum(" P " in x for x in lines) > 100  # the fixture really has partial lines
    parser = parser_for(path, NOW)
    recs = list(iter_records(path, parser))
    assert len(recs) == records
    joined = [r for r in recs if b" stderr P " in r.first]
    assert joined and all(b"done" in r.first and len(r.lines) == 1 for r in joined)
    pats = mine_patterns([path], since=T0, until=END, now=NOW, level="error")
    assert sum(p.count for p in pats) == errors


def test_cri_partial_line_at_a_chunk_end_waits_for_the_line_that_completes_it(tmp_path: Path) -> None:
    from incident.tools.logscan import iter_chunks, join_partials

    path, _, _ = write_style(tmp_path, "cri.log")
    data = path.read_bytes()
    whole = join_partials(data)
    assert whole != data and len(whole) == len(data)
    for size in (600, 1000, 4096):  # longer than any line, as real chunks (MBs) are
        chunks = list(iter_chunks(path, size=size, cri=True))
        assert b"".join(c for _, c in chunks) == whole
        assert all(off == sum(len(c) for _, c in chunks[:i]) for i, (off, _) in enumerate(chunks))


def test_a_fixed_layout_request_log_counts_5xx_at_info_even_when_its_first_lines_are_all_2xx(tmp_path: Path) -> None:
    lines = []
    for m in range(60):
        for k in range(10):
            t = T0 + timedelta(minutes=m, seconds=k * 6)
            code = 503 if m >= 40 and k % 2 else 200
            lines.append(t.strftime("%Y-%m-%d %H:%M:%S,000") + f" INFO  [http-1] access - GET /api/pay status={code} took=503ms")
    path = tmp_path / "req.log"
    path.write_text("\n".join(lines) + "\n")
    for totals in (True, False):
        tl = error_timeline([path], since=T0, until=T0 + timedelta(hours=1), now=NOW, totals=totals)
        assert tl.error_lines == 100
        assert tl.onset == T0 + timedelta(minutes=40)


@pytest.mark.parametrize("name", sorted(STYLES))
def test_every_style_mines_its_error_records_into_patterns(tmp_path: Path, name: str) -> None:
    path, _, errors = write_style(tmp_path, name)
    pats = mine_patterns([path], since=T0, until=END, now=NOW, level="error", new_since=ONSET)
    assert sum(p.count for p in pats) == errors
    assert all(p.level == "error" for p in pats)


def _request_log_lines() -> list[str]:
    tails = ["status=200 duration_ms=503", "status=503 duration_ms=12", 'status_code="502"', "http.status=500 took=1ms",
             "upstream_status=502", "Status=504", "exit_status=500", "status=5031", "status=404", "path=/x status=200"]
    lines = []
    for m in range(60):
        for k in range(10):
            t = T0 + timedelta(minutes=m, seconds=k * 6)
            level = ("INFO", "WARN", "DEBUG", "ERROR")[k % 4] if m >= 40 or k % 4 != 3 else "INFO"
            tail = tails[(m * 10 + k) % len(tails)] if m >= 40 else tails[0]
            lines.append(t.strftime("%Y-%m-%d %H:%M:%S,%f")[:-3] + f" {level:<5} [http-1] access - GET /api/pay {tail}")
    return lines


def test_status_keys_are_counted_alike_by_rg_python_and_the_general_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from incident.tools import minutes
    from incident.tools.levels import level_of as level
    from incident.tools.timestamps import detect

    lines = _request_log_lines()
    raw = [x.encode() for x in lines]
    layout = minutes.detect_layout(raw[-300:], detect(raw, NOW))
    assert layout is not None and layout.status  # the fast path really runs here
    expected = sum(level(x) == "error" for x in raw)
    assert 100 < expected < 600
    plain = tmp_path / "req.log"
    plain.write_text("\n".join(lines) + "\n")
    gz = tmp_path / "req.log.gz"
    import gzip

    gz.write_bytes(gzip.compress(plain.read_bytes()))

    def errors(p: Path) -> list[int]:
        tl = error_timeline([p], since=T0, until=T0 + timedelta(hours=1), now=NOW)
        assert tl.error_lines == expected
        return [b.errors for b in tl.buckets]

    ref = errors(plain)
    assert errors(gz) == ref
    monkeypatch.setattr("incident.tools.logscan.find_rg", lambda: None)
    assert errors(plain) == ref and errors(gz) == ref
    monkeypatch.undo()
    monkeypatch.setattr("incident.tools.timeline.detect_layout", lambda sample, parser: None)
    assert errors(plain) == ref
