"""Levels, HTTP statuses and timestamps of real-world lines, both ways: what must count as an
error, and what merely mentions one (a URL, a field name, a 200, a size) and must not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from incident.tools.levels import http_status, is_error, level_of
from incident.tools.timestamps import parse_timestamp

NOW = datetime(2026, 11, 21, 16, 0, tzinfo=UTC)
AT = datetime(2026, 11, 21, 14, 0, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "level"),
    [
        # Errors written as real software writes them.
        ("<163>1 2026-11-21T16:00:01.003+02:00 web01 checkout 4211 ID47 - connection refused", "error"),
        ("<11>Nov 21 14:00:01 web01 app[1]: connection refused", "error"),
        ("<164>1 2026-11-21T14:00:01Z web01 app 1 - - disk almost full", "warn"),
        ("<166>1 2026-11-21T14:00:01Z web01 app 1 - - ERROR boom", "error"),  # the text outranks a milder PRI
        ('{"__REALTIME_TIMESTAMP":"1795269601000000","PRIORITY":"3","MESSAGE":"payment gateway timeout"}', "error"),
        ('{"__REALTIME_TIMESTAMP":"1795269601000000","PRIORITY":"6","MESSAGE":"ERROR payment failed"}', "error"),
        ('{"__REALTIME_TIMESTAMP":"1795269601000000","PRIORITY":"4","MESSAGE":"slow"}', "warn"),
        ('{"t":{"$date":"2026-11-21T14:00:01.123+00:00"},"s":"E","c":"NETWORK","id":1,"msg":"Error receiving request"}', "error"),
        ('{"t":{"$date":"2026-11-21T14:00:01.123+00:00"},"s":"W","c":"NETWORK","id":1,"msg":"slow"}', "warn"),
        ("Nov 21 14:00:01 bastion sshd[2001]: error: kex_exchange_identification: Connection closed", "error"),
        ("Nov 21 14:00:01 mx postfix/smtpd[9]: fatal: no SASL authentication mechanisms", "error"),
        ("Nov 21 14:00:01 mx postfix/smtpd[9]: warning: hostname x does not resolve", "warn"),
        ("[21-Nov-2026 14:00:01 UTC] PHP Fatal error:  Uncaught Exception: boom in /var/www/a.php:3", "error"),
        ("[21-Nov-2026 14:00:01 UTC] PHP Warning:  Undefined variable $x in /var/www/a.php on line 3", "warn"),
        ("\x1b[2m2026-11-21T14:00:01.123456Z\x1b[0m \x1b[31mERROR\x1b[0m \x1b[2mapi\x1b[0m: request failed", "error"),
        ('{"level":"\\u001b[31merror\\u001b[39m","message":"unhandled rejection"}', "error"),
        ('{"log":"{\\"level\\":\\"error\\",\\"msg\\":\\"upstream failed\\"}\\n","stream":"stdout","time":"2026-11-21T14:00:01Z"}', "error"),
        ('{"logStreamName":"2026/11/21/[$LATEST]0123456789abcdef0123456789abcdef","timestamp":1795269601000,'
         '"message":"2026-11-21T14:00:01.000Z\\tc0ffee00-0001-4a5b-8c9d-0e1f2a3b4c5d\\tERROR\\tInvoke Error"}', "error"),
        ("I, [2026-11-21T14:00:01.123456 #1]  INFO -- : [abc] Completed 500 Internal Server Error in 12ms", "error"),
        ('10.0.0.1:4000 [21/Nov/2026:14:00:01.123] fe be/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"', "error"),
        ("2026-11-21\t14:00:01\tSEA19-C1\t2390\t192.0.2.1\tGET\td1.cloudfront.net\t/index.html\t502\t-\tcurl", "error"),
        ("2026-11-21 14:00:01 10.0.0.4 GET /api - 443 - 10.0.0.1 Mozilla/5.0 - 500 0 0 15", "error"),
        ('2026-11-21T14:00:01.1Z my-elb 1.2.3.4:1 10.0.0.1:80 -1 -1 -1 504 0 0 0 "GET http://x:80/ HTTP/1.1" "-" - -', "error"),
        ('2026-11-21T14:00:01Z heroku[router]: at=error code=H12 desc="Request timeout" method=GET path="/" status=503', "error"),
        # Mentions that are not errors.
        ('10.0.0.1 - - [21/Nov/2026:14:00:01 -0500] "GET /api/errors?error_count=0&status=500 HTTP/2.0" 200 502 "https://x/errors" "-"', "info"),
        ("2026-11-21T14:00:01Z level=info msg=done error_count=0 path=/api/errors status=200", "info"),
        ('{"level":"info","msg":"request served","error_count":0,"path":"/api/errors","status":200,"bytes":503}', "info"),
        ('{"level":"info","msg":"request served","took_ms":503,"errors":0}', "info"),
        ("2026-11-21 14:00:01.123  INFO 1 --- [main] c.e.ErrorPageController : served /errors in 3 ms", "info"),
        ("2026-11-21T14:00:01.123456Z 12 [Note] [MY-010914] [Server] Aborted connection 5 (Got an error reading communication packets).", None),
        ("1:M 21 Nov 2026 14:00:01.123 # Background saving error", "warn"),
        ("1:M 21 Nov 2026 14:00:01.123 * Background saving started by pid 42", "info"),
        ("2026-11-21 14:00:01.123 UTC [123] DETAIL:  Key (id)=(1) already exists.", None),
        ("2026-11-21 14:00:01 10.0.0.4 GET /api/errors error_count=0 443 - 10.0.0.1 Mozilla/5.0 - 404 0 2 15", "warn"),
        ("2026-11-21\t14:00:01\tSEA19-C1\t503\t192.0.2.1\tGET\td1.cloudfront.net\t/errors\t200\t-\tcurl", "info"),
        ("[Sat Nov 21 14:00:01 2026] [notice] mod_security: Warning. Pattern match \"error\" at ARGS:q.", "info"),
        ("I1121 14:00:01.123456   1 server.go:1] recovered: error budget 0", "info"),
        ('{"level":30,"time":1795269601000,"msg":"request completed","res":{"statusCode":200},"responseTime":503}', "info"),
    ],
)
def test_levels_of_real_world_lines(line: str, level: str | None) -> None:
    assert level_of(line.encode()) == level, line


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        (["panic: runtime error: index out of range [3] with length 3", "", "goroutine 1 [running]:"], True),
        (["fatal error: concurrent map writes"], True),
        (["2026/11/21 14:00:01 http: panic serving 10.0.0.1:5123: runtime error: index out of range"], True),
        (['Exception in thread "main" java.lang.OutOfMemoryError: Java heap space'], True),
        (["Unhandled exception. System.InvalidOperationException: boom"], True),
        (["served /api/errors in 3ms", "see /docs/errors for error codes"], False),
        (["GET /api/errors 200"], False),
    ],
)
def test_records_without_a_level_are_errors_only_for_an_exception_or_a_crash(lines: list[str], error: bool) -> None:
    assert is_error([x.encode() for x in lines]) is error


@pytest.mark.parametrize(
    ("line", "status"),
    [
        ('10.0.0.1:4000 [21/Nov/2026:14:00:01.123] fe be/s1 0/0/1/12/13 200 502 - - ---- 1/1/0/0/0 0/0 "GET /x HTTP/1.1"', 200),
        ('lb1 haproxy[1]: 10.0.0.1:4000 [21/Nov/2026:14:00:01.123] fe be/s1 0/0/-1/-1/+5 504 0 - - sH-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"', 504),
        ("2026-11-21\t14:00:01\tSEA19-C1\t503\t192.0.2.1\tGET\td1.cloudfront.net\t/errors\t200\t-\tcurl", 200),
        ("2026-11-21 14:00:01 10.0.0.4 POST /api - 443 - 10.0.0.1 Mozilla/5.0 - 503 0 64 15", 503),
        ("I, [2026-11-21T14:00:01.1 #1]  INFO -- : Completed 422 Unprocessable Entity in 3ms", 422),
        ("2026-11-21 14:00:01 INFO Completed the 500 jobs", None),  # not Rails' request line
        ("2026-11-21 14:00:01 INFO processed 500 500 0 15 items", None),  # no request method: not W3C
    ],
)
def test_statuses_of_more_request_logs(line: str, status: int | None) -> None:
    assert http_status(line.encode()) == status


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("21-Nov-2026 14:00:01.000 SEVERE [main] org.apache.catalina.startup.Catalina.start boom", AT),
        ("[21-Nov-2026 14:00:01 UTC] PHP Fatal error:  boom", AT),
        ("[21-Nov-2026 15:00:01 CET] PHP Fatal error:  boom", AT),
        ("1:M 21 Nov 2026 14:00:01.000 # boom", AT),
        ("10.0.0.1:4000 [21/Nov/2026:14:00:01.000] fe be/s1 0/0/1/12/13 200 502", AT),
        ('[21/Nov/2026 14:00:01] "GET / HTTP/1.1" 200 12', AT),
        ("2026-11-21\t14:00:01\tSEA19-C1\t2390", AT),
        ("[2026-11-21 09:00:01 -0500] [123] [ERROR] Error handling request", AT),
        ("2026-11-21 09:00:01.000 EST [123] ERROR:  boom", AT),
        ("2026-11-21 15:00:01.000 +01 [123] ERROR:  boom", AT),
        ("2026-11-21 14:00:01 -1 retries left", AT),  # `-1` is no zone
        ('{"start_time":"2026-11-21T14:00:01.000Z","method":"GET","response_code":200}', AT),
        ('{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1795269601000000","__MONOTONIC_TIMESTAMP":"912345678"}', AT),
        ('{"t":{"$date":"2026-11-21T14:00:01.000+00:00"},"s":"I","msg":"x"}', AT),
        ('{"@t":"2026-11-21T14:00:01.0000000Z","@mt":"Request {Path} failed","@l":"Error"}', AT),
        ('{"instant":{"epochSecond":1795269601,"nanoOfSecond":0},"level":"ERROR","message":"x"}', AT),
        ("14:00:01.000 [main] ERROR c.e.App - boom", AT),  # time of day only: the clock's date
    ],
)
def test_more_real_world_timestamps(line: str, expected: datetime) -> None:
    got = parse_timestamp(line, NOW)
    assert got is not None and abs((got - expected).total_seconds()) < 1e-3, (line, got)


def test_a_time_of_day_later_than_now_is_yesterdays() -> None:
    just_after_midnight = datetime(2026, 11, 22, 0, 5, tzinfo=UTC)
    assert parse_timestamp("23:59:58.000 [main] INFO x", just_after_midnight) == datetime(2026, 11, 21, 23, 59, 58, tzinfo=UTC)
    assert parse_timestamp("00:04:00.000 [main] INFO x", just_after_midnight) == datetime(2026, 11, 22, 0, 4, tzinfo=UTC)
    assert parse_timestamp("00:30:00.000 [main] INFO x", just_after_midnight) == datetime(2026, 11, 22, 0, 30, tzinfo=UTC)  # skew


@pytest.mark.parametrize("line", ["#Date: 2026-11-21 14:00:01", "#open\t2026-11-21-14-00-01", "  at 2026-11-21 14:00:01 in a message"])
def test_header_and_indented_lines_open_no_record(line: str) -> None:
    from incident.tools.timestamps import detect

    lines = [b"2026-11-21 14:00:0%d INFO ok" % i for i in range(5)] + [line.encode()]
    parser = detect(lines, NOW)
    assert parser.parse(line.encode()) is None
