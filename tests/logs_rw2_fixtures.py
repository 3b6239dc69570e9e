"""More log styles, written the way the real software writes them: one writer per style, each told
whether its event is an error, so a test knows exactly how many records and errors a file holds.

Same shape as `logs_rw_fixtures`: 90 minutes from T0, one event every 3 s, a rare background error,
and from ONSET on about half the events fail. A writer returns the event's records (each a list of
lines: the opening line and its trace); the first record is the one that is an error when `err`.
A few styles have a header (CloudFront, IIS) or are one JSON document (CloudWatch, gcloud)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from logs_rw_fixtures import END, NOW, ONSET, T0

__all__ = ["END", "NOW", "ONSET", "STYLES", "T0", "write_style"]

Q = '"'
Records = list[list[str]]
Writer = Callable[[datetime, bool, int], Records]
EST = timezone(timedelta(hours=-5))
CEST = timezone(timedelta(hours=2))
IST = timezone(timedelta(hours=5, minutes=30))


def _one(*lines: str) -> Records:
    return [list(lines)]


def _ms(t: datetime) -> str:
    return f"{t.microsecond // 1000:03d}"


def _iso(t: datetime, digits: int = 3, z: str = "Z") -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[: 20 + digits] + z


def _epoch_ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


# ---------------------------------------------------------------- web servers and proxies


def nginx_access(t: datetime, err: bool, i: int) -> Records:
    """Combined format plus timings, in local time (-0500). Good lines include a 200 on
    /api/errors?error_count=0, a 502-byte body, and a TLS handshake sent to the HTTP port (400)."""
    local = t.astimezone(EST).strftime("%d/%b/%Y:%H:%M:%S -0500")
    if err:
        code, req = (502, 504, 500)[i % 3], "POST /api/checkout HTTP/1.1"
        return _one(f'10.0.0.{i % 250} - - [{local}] "{req}" {code} 157 "-" "Mozilla/5.0 (X11; Linux x86_64)" rt=30.001 uct="-" urt="30.000"')
    if i % 11 == 0:
        return _one(f'10.0.0.9 - - [{local}] "\\x16\\x03\\x01\\x00\\xfc\\x01\\x00\\x00\\xf8\\x03\\x03" 400 157 "-" "-" rt=0.001 uct="-" urt="-"')
    return _one(f'10.0.0.{i % 250} - alice [{local}] "GET /api/errors?error_count=0&status=500 HTTP/2.0" 200 502 '
                f'"https://shop.example.com/errors" "Mozilla/5.0" rt=0.012 uct="0.000" urt="0.011"')


def apache22_error(t: datetime, err: bool, i: int) -> Records:
    stamp = t.strftime("%a %b %d %H:%M:%S %Y")
    if err:
        return _one(f"[{stamp}] [error] [client 10.0.0.{i % 250}] (70007)The timeout specified has expired: proxy: error reading status line from remote server backend:8080")
    return _one(f"[{stamp}] [notice] [client 10.0.0.1] mod_security: Warning. Pattern match {Q}error{Q} at ARGS:q. [uri {Q}/search{Q}]"
                if i % 5 == 0 else f"[{stamp}] [notice] Apache/2.2.22 (Unix) configured -- resuming normal operations")


def apache24_error(t: datetime, err: bool, i: int) -> Records:
    stamp = t.strftime("%a %b %d %H:%M:%S.%f %Y")
    if err:
        mod, text = (("proxy:error", "(111)Connection refused: AH00957: HTTP: attempt to connect to 10.0.0.5:8080 (backend) failed"),
                     ("proxy_http:error", "(70007)The timeout specified has expired: [client 10.0.0.7:51234] AH01102: error reading status line from remote server backend:8080"),
                     ("core:crit", "AH00102: [Sat Nov 21 14:00:00 2026] file http_filters.c, line 1 assertion failed"))[i % 3]
        return _one(f"[{stamp}] [{mod}] [pid {1000 + i % 7}:tid 140{i % 10}] {text}")
    mod = ("mpm_event:notice", "ssl:warn", "authz_core:debug", "core:trace3")[i % 4]
    return _one(f"[{stamp}] [{mod}] [pid 1000:tid 1400] AH00489: Apache/2.4.57 (Unix) configured -- resuming normal operations; error_log rotated")


def _haproxy(t: datetime, err: bool, i: int) -> str:
    stamp = t.strftime("%d/%b/%Y:%H:%M:%S.") + _ms(t)
    if err:
        return (f"10.0.0.{i % 250}:{40000 + i} [{stamp}] http-in~ be_app/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- "
                f'12/12/0/0/0 0/0 "GET /api/cart HTTP/1.1"')
    return f'10.0.0.{i % 250}:{40000 + i} [{stamp}] http-in~ be_app/srv1 0/0/1/12/13 200 502 - - ---- 12/12/2/1/0 0/0 "GET /api/errors HTTP/1.1"'


def haproxy(t: datetime, err: bool, i: int) -> Records:
    """`log stdout format raw` (containers): the line starts with the client, the date is
    bracketed with milliseconds and no zone."""
    return _one(_haproxy(t, err, i))


def haproxy_syslog(t: datetime, err: bool, i: int) -> Records:
    return _one(f"{t.strftime('%b %d %H:%M:%S')} lb1 haproxy[2301]: {_haproxy(t, err, i)}")


def istio(t: datetime, err: bool, i: int) -> Records:
    """Istio's default sidecar access log (Envoy text format with Istio's fields)."""
    code, flags, detail = (503, "UF,URX", "upstream_reset_before_response_started{connection_failure}") if err else (200, "-", "via_upstream")
    return _one(f'[{_iso(t)}] "GET /productpage HTTP/1.1" {code} {flags} {detail} - "-" 0 {5183 if i % 3 else 503} 3 2 "-" '
                f'"curl/7.68.0" "a1b2c3d4-{i:04d}-4bb0-9c2f-2a1d3e4f5a6b" "productpage:9080" "10.44.1.27:9080" '
                f"outbound|9080||productpage.default.svc.cluster.local 10.44.1.23:37348 10.0.0.11:9080 10.44.1.23:58868 - default")


def envoy_json(t: datetime, err: bool, i: int) -> Records:
    """Envoy/Istio JSON access log: keys in no particular order, the time in `start_time`."""
    body = {"authority": "cart:8080", "bytes_received": 0, "bytes_sent": 503 if i % 4 == 0 else 91, "downstream_remote_address": "10.0.0.1:51234",
            "duration": 3, "method": "GET", "path": "/api/errors", "protocol": "HTTP/1.1", "request_id": f"req-{i}",
            "response_code": 503 if err else 200, "response_flags": "UF" if err else "-", "start_time": _iso(t),
            "upstream_host": "10.0.0.2:8080", "user_agent": "curl/7.68.0", "x_forwarded_for": None}
    return _one(json.dumps(body, separators=(",", ":")))


def alb_h2(t: datetime, err: bool, i: int) -> Records:
    """ALB when the target never answered: processing times -1, no target status."""
    if err:
        return _one(f"h2 {_iso(t, 6)} app/my-lb/50dc6c495c0c9188 192.168.131.39:2817 - -1 -1 -1 502 - 34 366 "
                    f'"GET https://www.example.com:443/api/x HTTP/2.0" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
                    f"arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "
                    f'"Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 {_iso(t, 6)} "forward" "-" "-" "-" "-" "-" "-"')
    return _one(f"https {_iso(t, 6)} app/my-lb/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:443 0.086 0.048 0.037 200 200 0 57 "
                f'"GET https://www.example.com:443/errors HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
                f"arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "
                f'"Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:1:certificate/1" 1 '
                f'{_iso(t, 6)} "forward" "-" "-" "10.0.0.1:443" "200" "-" "-"')


def elb_classic(t: datetime, err: bool, i: int) -> Records:
    times, codes = ("-1 -1 -1", "504 0") if err else ("0.000073 0.001048 0.000057", "200 200")
    return _one(f"{_iso(t, 6)} my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 {times} {codes} 0 {29 if i % 2 else 503} "
                f'"GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -')


CLOUDFRONT_HEADER = [
    "#Version: 1.0",
    "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) "
    "cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken "
    "x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status "
    "fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len "
    "sc-range-start sc-range-end",
]


def cloudfront(t: datetime, err: bool, i: int) -> Records:
    code, result = ("502", "Error") if err else ("200", "Hit")
    fields = [t.strftime("%Y-%m-%d"), t.strftime("%H:%M:%S"), "SEA19-C1", "503" if i % 3 == 0 else "2390", "192.0.2.100", "GET",
              "d111111abcdef8.cloudfront.net", "/errors/index.html", code, "-", "Mozilla/5.0%20(Windows%20NT%2010.0)", "-", "-",
              result, "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==", "d111111abcdef8.cloudfront.net", "https",
              "23", "0.001", "-", "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", result, "HTTP/2.0", "-", "-", "11040", "0.001",
              result, "text/html", "78", "-", "-"]
    return _one("\t".join(fields))


IIS_HEADER = [
    "#Software: Microsoft Internet Information Services 10.0",
    "#Version: 1.0",
    "#Date: 2026-11-21 14:00:00",
    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken",
]


def iis(t: datetime, err: bool, i: int) -> Records:
    code = "500 0 0" if err else ("200 0 0" if i % 5 else "404 0 2")
    return _one(f"{t.strftime('%Y-%m-%d %H:%M:%S')} 10.0.0.4 GET /api/errors error_count=0 443 - 10.0.0.{i % 250} "
                f"Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64) - {code} {503 if i % 2 else 15}")


# ---------------------------------------------------------------- containers and systemd


def docker_text(t: datetime, err: bool, i: int) -> Records:
    """Docker's json-file driver around a plain-text app; `time` has nanoseconds."""
    msg = f"{_iso(t)} ERROR [worker] job {i} failed: connection reset\n" if err else f"{_iso(t)} INFO  [worker] job {i} done (error_count=0)\n"
    return _one(json.dumps({"log": msg, "stream": "stderr" if err else "stdout", "time": _iso(t, 6)[:-1] + "123Z"}))


def docker_json_app(t: datetime, err: bool, i: int) -> Records:
    """Docker's json-file driver around an app that logs JSON itself: the app's keys are escaped
    inside `log` (`{\\"level\\":\\"error\\"}`)."""
    inner = {"level": "error" if err else "info", "ts": t.timestamp(), "caller": "api/handler.go:88",
             "msg": "upstream request failed" if err else "request served", "error_count": 0}
    return _one(json.dumps({"log": json.dumps(inner) + "\n", "stream": "stdout", "time": _iso(t, 6)}))


def _java_trace() -> list[str]:
    return [
        "java.lang.IllegalStateException: Failed to process order",
        "\tat com.example.shop.OrderService.place(OrderService.java:118)",
        "\tat com.example.shop.OrderController.create(OrderController.java:42)",
        "\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)",
        "Caused by: java.net.SocketTimeoutException: Read timed out",
        "\tat java.base/java.net.SocketInputStream.socketRead0(Native Method)",
        "\tat com.zaxxer.hikari.pool.HikariProxyConnection.prepareStatement(HikariProxyConnection.java)",
        "\t... 12 more",
    ]


def cri_java(t: datetime, err: bool, i: int) -> Records:
    """A Spring app in Kubernetes: the runtime stamps every line of a stack trace, so the trace
    lines each carry a CRI head and must still belong to the record that opened them."""
    stamp = _iso(t, 6)[:-1] + "123Z"
    app = t.strftime("%Y-%m-%d %H:%M:%S.") + _ms(t)
    if not err:
        return _one(f"{stamp} stdout F {app}  INFO 1 --- [nio-8080-exec-{i % 9}] c.e.shop.OrderController : order placed")
    head = f"{stamp} stdout F {app} ERROR 1 --- [nio-8080-exec-{i % 9}] o.a.c.c.C.[.[.[/].[dispatcherServlet] : Servlet.service() threw exception"
    return [[head] + [f"{stamp} stdout F {x}" for x in _java_trace()]]


def docker_java(t: datetime, err: bool, i: int) -> Records:
    """Docker's json-file around a Java app: every line of a trace is its own JSON object."""
    stamp = _iso(t, 6)[:-1] + "123Z"

    def line(text: str, stream: str = "stdout") -> str:
        return json.dumps({"log": text + "\n", "stream": stream, "time": stamp}, separators=(",", ":"))

    app = t.strftime("%Y-%m-%d %H:%M:%S.") + _ms(t)
    if not err:
        return _one(line(f"{app}  INFO 1 --- [main] c.e.shop.Orders : order {i} placed"))
    return [[line(f"{app} ERROR 1 --- [main] c.e.shop.Orders : order {i} failed")] + [line(x) for x in _java_trace()] + [line("")]]


def journal_java(t: datetime, err: bool, i: int) -> Records:
    """A Java service under systemd writing to stdout: journald stamps every line of a trace."""
    stamp = t.replace(microsecond=0).isoformat().replace("+00:00", "+0000")
    env = f"{stamp} web01 java[4211]: "
    if not err:
        return _one(f"{env}INFO  c.e.Billing - invoice {i} sent")
    return [[f"{env}ERROR c.e.Billing - invoice {i} failed"] + [env + x.replace("\t", "        ") for x in _java_trace()]]


def zap_crash(t: datetime, err: bool, i: int) -> Records:
    """zap's console encoder (tab-separated); a crash is the Go runtime's `panic:` (no stamp)
    after an INFO line, or `fatal error:`; the process restarts and logs on."""
    stamp = _iso(t)
    info = f"{stamp}\tINFO\tserver/main.go:42\trequest served\t{{\"errors\": 0}}"
    if not err:
        return _one(info)
    if i % 3 == 0:
        return _one(f"{stamp}\tERROR\tserver/main.go:57\tupstream failed\t{{\"error\": \"EOF\"}}")
    crash = ("panic: runtime error: invalid memory address or nil pointer dereference" if i % 3 == 1
             else "fatal error: concurrent map writes")
    return [[info], [crash, "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6b2d4e]", "",
                     "goroutine 42 [running]:", "main.(*Server).handle(0xc000112000, {0x7f1c, 0xc0001a2000})",
                     "\t/app/server/main.go:61 +0x1ee", "created by net/http.(*Server).Serve in goroutine 1",
                     "\t/usr/local/go/src/net/http/server.go:3086 +0x5cb"]]


def journal_short_iso(t: datetime, err: bool, i: int) -> Records:
    """`journalctl -o short-iso`: systemd < 250 wrote `+0000`, newer `+00:00`; a multi-line
    message continues on lines indented past the prefix."""
    zone = "+0000" if i % 2 else "+00:00"
    stamp = t.replace(microsecond=0).isoformat().replace("+00:00", zone)
    if err:
        return [[f"{stamp} web01 checkout[4211]: ERROR payment gateway timeout after 30s",
                 "                                          retrying with backoff"]]
    return _one(f"{stamp} web01 checkout[4211]: GET /api/errors 200 (error_count=0)")


def journal_short_precise(t: datetime, err: bool, i: int) -> Records:
    text = "checkout.service: Main process exited, code=exited, status=1/FAILURE" if err else "Started checkout.service - Checkout API."
    # The unit failing is the error; systemd writes no level word, so the fixture adds the common one.
    text = "ERROR " + text if err else text
    return _one(f"{t.strftime('%b %d %H:%M:%S.%f')} web01 systemd[1]: {text}")


def journal_json(t: datetime, err: bool, i: int) -> Records:
    """`journalctl -o json`: microsecond epoch strings, PRIORITY 0-7 (3 is err), MESSAGE."""
    us = str(int(t.timestamp() * 1_000_000))
    prio = ("3", "2", "0")[i % 3] if err else ("6", "5", "4", "7")[i % 4]
    return _one(json.dumps({
        "__CURSOR": f"s=6d3a;i={i:x};b=1f2e;m={i:x};t=5f1;x=9a", "__REALTIME_TIMESTAMP": us, "__MONOTONIC_TIMESTAMP": str(912345678 + i),
        "_BOOT_ID": "1f2e3d4c5b6a79881f2e3d4c5b6a7988", "PRIORITY": prio, "SYSLOG_FACILITY": "3", "_UID": "998", "_PID": "4211",
        "_COMM": "checkout", "SYSLOG_IDENTIFIER": "checkout", "_HOSTNAME": "web01",
        "MESSAGE": "payment gateway timeout" if err else "request served (errors=0)", "_SOURCE_REALTIME_TIMESTAMP": us,
    }, separators=(",", ":")))


def rfc5424(t: datetime, err: bool, i: int) -> Records:
    """RFC 5424 with structured data and a local offset; the severity is only in PRI (facility
    local4 = 20: 163 is err, 166 info, 164 warning)."""
    local = t.astimezone(CEST)
    stamp = local.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+02:00"
    pri = (163, 162, 161)[i % 3] if err else (166, 165, 164, 167)[i % 4]
    msg = "connection to db01 refused" if err else "request served, 0 errors"
    return _one(f'<{pri}>1 {stamp} web01.example.com checkout 4211 ID47 [exampleSDID@32473 iut="3" eventSource="Application"] {msg}')


def rfc3164(t: datetime, err: bool, i: int) -> Records:
    """Classic syslog as rsyslog writes it: a space-padded day; sshd and friends start an
    error message with `error:`, kernel lines have none."""
    day = f"{t.strftime('%b')} {t.day:>2} {t.strftime('%H:%M:%S')}"
    if err:
        return _one(f"{day} bastion sshd[{2000 + i}]: error: kex_exchange_identification: Connection closed by remote host")
    return _one(f"{day} bastion sshd[{2000 + i}]: Accepted publickey for deploy from 10.0.0.{i % 250} port 51234 ssh2: ED25519 SHA256:x"
                if i % 3 else f"{day} bastion kernel: [12345.678901] TCP: request_sock_TCP: Possible SYN flooding on port 22. Sending cookies.")


# ---------------------------------------------------------------- application frameworks


def spring_boot(t: datetime, err: bool, i: int) -> Records:
    """Spring Boot's default logback console pattern, with a Java trace (`Caused by:`, `... 12 more`)."""
    head = t.strftime("%Y-%m-%d %H:%M:%S.") + _ms(t)
    if err:
        return [[f"{head} ERROR 1 --- [nio-8080-exec-{i % 9}] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet "
                 "[dispatcherServlet] in context with path [] threw exception", *_java_trace()]]
    return _one(f"{head}  INFO 1 --- [nio-8080-exec-{i % 9}] c.e.shop.ErrorPageController            : served /errors in 3 ms")


def logback_time_only(t: datetime, err: bool, i: int) -> Records:
    """Logback's and log4j2's default pattern `%d{HH:mm:ss.SSS} [%thread] %-5level %logger{36} - %msg`:
    no date at all (taken from the clock)."""
    head = t.strftime("%H:%M:%S.") + _ms(t)
    if err:
        return [[f"{head} [main] ERROR c.e.shop.PaymentClient - payment failed", *_java_trace()[:4]]]
    return _one(f"{head} [main] INFO  c.e.shop.PaymentClient - payment ok (errorCount=0)")


def tomcat(t: datetime, err: bool, i: int) -> Records:
    """Tomcat's OneLineFormatter (catalina.out): `21-Nov-2026 14:00:01.123 SEVERE [thread] class message`."""
    head = t.strftime("%d-%b-%Y %H:%M:%S.") + _ms(t)
    if err:
        return [[f"{head} SEVERE [http-nio-8080-exec-{i % 9}] org.apache.catalina.core.StandardWrapperValve.invoke Servlet.service() "
                 "for servlet [dispatcher] threw exception", *_java_trace()[:3]]]
    return _one(f"{head} INFO [main] org.apache.catalina.startup.Catalina.start Server startup in [1234] milliseconds")


def python_traceback(t: datetime, err: bool, i: int) -> Records:
    """`%(asctime)s - %(name)s - %(levelname)s - %(message)s` and `logger.exception`."""
    head = t.strftime("%Y-%m-%d %H:%M:%S,") + _ms(t)
    if err:
        return [[f"{head} - checkout.views - ERROR - Internal Server Error: /api/orders/{i}",
                 "Traceback (most recent call last):",
                 '  File "/app/checkout/views.py", line 88, in create_order',
                 "    charge(order)",
                 '  File "/app/checkout/payments.py", line 41, in charge',
                 "    raise PaymentError(resp.text)",
                 "checkout.payments.PaymentError: card declined"]]
    return _one(f"{head} - checkout.views - INFO - order {i} created (errors=0)")


def gunicorn(t: datetime, err: bool, i: int) -> Records:
    """Gunicorn's error log: local time with a numeric zone after a space (-0500 here)."""
    stamp = t.astimezone(EST).strftime("%Y-%m-%d %H:%M:%S -0500")
    if err:
        return [[f"[{stamp}] [{100 + i % 4}] [ERROR] Error handling request /api/orders",
                 "Traceback (most recent call last):",
                 '  File "/usr/lib/python3/site-packages/gunicorn/workers/sync.py", line 136, in handle',
                 "    self.handle_request(listener, req, client, addr)",
                 "ConnectionResetError: [Errno 104] Connection reset by peer"]]
    return _one(f"[{stamp}] [{100 + i % 4}] [INFO] Booting worker with pid: {100 + i % 4}")


def django_runserver(t: datetime, err: bool, i: int) -> Records:
    """Django's development server: `[21/Nov/2026 14:00:01]`, no zone (local time, UTC here)."""
    stamp = t.strftime("%d/%b/%Y %H:%M:%S")
    if err:
        return _one(f'[{stamp}] "POST /api/orders/ HTTP/1.1" 500 145')
    return _one(f'[{stamp}] "GET /api/errors/ HTTP/1.1" 200 {502 if i % 2 else 1234}')


def go_panic(t: datetime, err: bool, i: int) -> Records:
    """Go's log package, and two kinds of panic: one net/http recovered (stamped, no level word)
    and one that crashed the process (the runtime writes it without a stamp after an info line,
    and the service restarts)."""
    stamp = t.strftime("%Y/%m/%d %H:%M:%S")
    if not err:
        return _one(f"{stamp} served /api/errors in {i % 50}ms")
    if i % 2:
        return [[f"{stamp} http: panic serving 10.0.0.{i % 250}:51234: runtime error: invalid memory address or nil pointer dereference",
                 "goroutine 1234 [running]:", "net/http.(*conn).serve.func1()", "\t/usr/local/go/src/net/http/server.go:1868 +0xb9"]]
    # The crash itself has no stamp: it follows the last line the service wrote.
    return [[f"{stamp} served /api/x in 3ms"],
            ["panic: runtime error: index out of range [3] with length 3", "", "goroutine 1 [running]:", "main.handler(...)",
             "\t/app/main.go:42 +0x1d", "main.main()", "\t/app/main.go:12 +0x25", "exit status 2"]]


def pino(t: datetime, err: bool, i: int) -> Records:
    body: dict[str, object] = {"level": 50 if err else 30, "time": _epoch_ms(t), "pid": 7, "hostname": "api-7d9f",
                               "reqId": f"req-{i}", "msg": "request errored" if err else "request completed"}
    if err:
        body["err"] = {"type": "Error", "message": "connect ECONNREFUSED 10.0.0.5:5432",
                       "stack": "Error: connect ECONNREFUSED 10.0.0.5:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)"}
    else:
        body["res"] = {"statusCode": 200}
        body["responseTime"] = 503
    return _one(json.dumps(body, separators=(",", ":")))


def bunyan(t: datetime, err: bool, i: int) -> Records:
    return _one(json.dumps({"name": "api", "hostname": "api-7d9f", "pid": 7, "level": 50 if err else 30,
                            "msg": "db query failed" if err else "handled: 200", "time": _iso(t), "v": 0}, separators=(",", ":")))


def winston(t: datetime, err: bool, i: int) -> Records:
    """winston's json format; with colorize() before json() the level carries escaped ANSI codes."""
    level = "error" if err else "info"
    if i % 3 == 0:
        level = ("\u001b[31merror\u001b[39m" if err else "\u001b[32minfo\u001b[39m")
    return _one(json.dumps({"level": level, "message": "unhandled rejection" if err else "GET /api/errors 200", "timestamp": _iso(t)}))


def rails(t: datetime, err: bool, i: int) -> Records:
    """Rails' request log at INFO: the status is only in `Completed 500 Internal Server Error`."""
    stamp = t.strftime("%Y-%m-%dT%H:%M:%S.%f")
    tag = f"[{i:08x}-6b1d-4c2e-9f00-4a5b6c7d8e9f]"
    status = "500 Internal Server Error" if err else "200 OK"
    return _one(f"I, [{stamp} #1234]  INFO -- : {tag} Completed {status} in {i % 90 + 1}ms (Views: 1.2ms | ActiveRecord: 0.4ms | Allocations: 1834)")


def heroku_router(t: datetime, err: bool, i: int) -> Records:
    stamp = t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+00:00"
    if err:
        return _one(f'{stamp} heroku[router]: at=error code=H12 desc="Request timeout" method=GET path="/api/orders" host=shop.herokuapp.com '
                    f'request_id={i:08x}-aaaa fwd="10.0.0.1" dyno=web.1 connect=0ms service=30000ms status=503 bytes=0 protocol=https')
    return _one(f'{stamp} heroku[router]: at=info method=GET path="/errors" host=shop.herokuapp.com request_id={i:08x}-bbbb '
                f'fwd="10.0.0.1" dyno=web.1 connect=0ms service=503ms status=200 bytes=502 protocol=https')


def tracing_ansi(t: datetime, err: bool, i: int) -> Records:
    """Rust tracing-subscriber's default output with colours on (ANSI codes around each part)."""
    lv = "\x1b[31mERROR\x1b[0m" if err else "\x1b[32m INFO\x1b[0m"
    msg = "request failed: connection reset" if err else "request served errors=0"
    return _one(f"\x1b[2m{_iso(t, 6)}\x1b[0m {lv} \x1b[2mapi::server\x1b[0m\x1b[2m:\x1b[0m {msg}")


def crlf_log4j(t: datetime, err: bool, i: int) -> Records:
    """A log4j file written on Windows: CRLF line ends, traces included (the writer joins with CRLF)."""
    head = t.strftime("%Y-%m-%d %H:%M:%S,") + _ms(t)
    if err:
        return [[f"{head} ERROR [main] c.e.Billing - invoice failed", *_java_trace()[:3]]]
    return _one(f"{head} INFO  [main] c.e.Billing - invoice sent")


def mixed_offsets(t: datetime, err: bool, i: int) -> Records:
    """One service, hosts in different zones writing local time with offsets into one file."""
    tz = (CEST, EST, IST, UTC)[i % 4]
    stamp = t.astimezone(tz).isoformat(timespec="milliseconds")
    return _one(f"{stamp} {'ERROR' if err else 'INFO '} [billing] {'charge failed' if err else 'charged'}")


# ---------------------------------------------------------------- databases


def postgres(t: datetime, err: bool, i: int) -> Records:
    """`log_line_prefix = '%m [%p] '`: ERROR comes with DETAIL and STATEMENT lines, each stamped."""
    stamp = t.strftime("%Y-%m-%d %H:%M:%S.") + _ms(t) + " UTC"
    pid = 100 + i % 50
    if err:
        return [[f'{stamp} [{pid}] ERROR:  duplicate key value violates unique constraint "orders_pkey"'],
                [f"{stamp} [{pid}] DETAIL:  Key (id)=({i}) already exists."],
                [f"{stamp} [{pid}] STATEMENT:  INSERT INTO orders (id, error_count) VALUES ({i}, 0)"]]
    if i % 9 == 0:
        return _one(f"{stamp} [{pid}] LOG:  checkpoint complete: wrote 12 buffers (0.1%); 0 WAL file(s) added, 0 removed, 0 recycled")
    return _one(f"{stamp} [{pid}] LOG:  duration: 0.503 ms  statement: SELECT * FROM errors WHERE id = {i}")


def mysql(t: datetime, err: bool, i: int) -> Records:
    stamp = _iso(t, 6)
    if err:
        return _one(f"{stamp} {i % 20} [ERROR] [MY-013183] [InnoDB] Assertion failure: btr0pcur.cc:461 thread 139")
    return _one(f"{stamp} {i % 20} [Note] [MY-010914] [Server] Aborted connection {i} to db: 'shop' user: 'app' host: '10.0.0.1' "
                "(Got an error reading communication packets)." if i % 4 == 0 else
                f"{stamp} 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections. Version: '8.0.36'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306")


def mongodb(t: datetime, err: bool, i: int) -> Records:
    """MongoDB 4.4+ structured log: `{"t":{"$date":...},"s":"E",...}`."""
    stamp = t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + _ms(t) + "+00:00"
    if err:
        return _one(json.dumps({"t": {"$date": stamp}, "s": "E", "c": "NETWORK", "id": 23254, "ctx": f"conn{i}",
                                "msg": "Error receiving request from client", "attr": {"error": {"code": 6, "codeName": "HostUnreachable"}}},
                               separators=(",", ":")))
    return _one(json.dumps({"t": {"$date": stamp}, "s": "I", "c": "NETWORK", "id": 22943, "ctx": "listener",
                            "msg": "Connection accepted", "attr": {"remote": "10.0.0.1:51234", "connectionCount": 12}}, separators=(",", ":")))


def elasticsearch(t: datetime, err: bool, i: int) -> Records:
    stamp = t.strftime("%Y-%m-%dT%H:%M:%S,") + _ms(t)
    if err:
        return [[f"[{stamp}][ERROR][o.e.a.s.TransportSearchAction] [node-1] [orders][0] failed to execute search",
                 "org.elasticsearch.transport.RemoteTransportException: [node-2][10.0.0.2:9300][indices:data/read/search]",
                 "Caused by: org.elasticsearch.index.query.QueryShardException: failed to create query"]]
    return _one(f"[{stamp}][INFO ][o.e.c.r.a.AllocationService] [node-1] Cluster health status changed from [YELLOW] to [GREEN]")


# ---------------------------------------------------------------- cloud exports


def gcp(t: datetime, err: bool, i: int) -> Records:
    """A Cloud Logging sink export (one LogEntry per line): text, JSON and request entries."""
    ts = _iso(t, 6)[:-1] + "123Z"
    base = {"insertId": f"{i:012x}", "resource": {"type": "k8s_container", "labels": {"project_id": "shop", "cluster_name": "prod"}},
            "timestamp": ts, "receiveTimestamp": ts, "logName": "projects/shop/logs/stdout"}
    shape = i % 3
    if shape == 0:
        entry = {"textPayload": "Payment provider returned 503" if err else "Payment ok (errors=0)", "severity": "ERROR" if err else "INFO"}
    elif shape == 1:
        entry = {"jsonPayload": {"message": "db timeout" if err else "query ok", "error_count": 0}, "severity": "ERROR" if err else "DEFAULT"}
    else:
        entry = {"httpRequest": {"requestMethod": "GET", "requestUrl": "https://shop.example.com/api/errors", "status": 503 if err else 200,
                                 "responseSize": "503", "latency": "0.503s"}, "severity": "INFO"}
    return _one(json.dumps({"insertId": base["insertId"], **entry, **{k: v for k, v in base.items() if k != "insertId"}}))


def _cloudwatch_event(t: datetime, err: bool, i: int) -> dict[str, object]:
    req = f"c0ffee00-{i:04d}-4a5b-8c9d-0e1f2a3b4c5d"
    if err:
        msg = f'{_iso(t)}\t{req}\tERROR\tInvoke Error \t{{"errorType":"Error","errorMessage":"upstream 503","stack":["Error: upstream 503","    at Runtime.handler (/var/task/index.js:12:11)"]}}\n'
    else:
        msg = f"{_iso(t)}\t{req}\tINFO\tprocessed order {i} errors=0\n"
    return {"logStreamName": "2026/11/21/[$LATEST]9f8e7d6c5b4a", "timestamp": _epoch_ms(t), "message": msg,
            "ingestionTime": _epoch_ms(t) + 250, "eventId": f"3782{i:052d}"}


def cloudwatch(t: datetime, err: bool, i: int) -> Records:
    return _one(json.dumps(_cloudwatch_event(t, err, i)))


def _gcloud_entry(t: datetime, err: bool, i: int) -> dict[str, object]:
    return {"insertId": f"{i:012x}", "logName": "projects/shop/logs/run.googleapis.com%2Fstderr",
            "receiveTimestamp": _iso(t, 6)[:-1] + "999Z", "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api"}},
            "severity": "ERROR" if err else "INFO", "textPayload": "payment declined by provider" if err else "GET /errors 200",
            "timestamp": _iso(t, 6)}


def gcloud(t: datetime, err: bool, i: int) -> Records:
    return _one(json.dumps(_gcloud_entry(t, err, i)))


def _cloudwatch_document(lines: list[str]) -> str:
    """`aws logs filter-log-events` prints one pretty JSON document."""
    return json.dumps({"events": [json.loads(x) for x in lines], "searchedLogStreams": [], "nextToken": "Bxyz"}, indent=4) + "\n"


def _gcloud_document(lines: list[str]) -> str:
    """`gcloud logging read --format=json` prints a pretty JSON array, newest first."""
    return json.dumps([json.loads(x) for x in reversed(lines)], indent=2) + "\n"


STYLES: dict[str, Writer] = {
    "nginx_access.log": nginx_access, "apache22_error.log": apache22_error, "apache24_error.log": apache24_error,
    "haproxy.log": haproxy, "haproxy_syslog.log": haproxy_syslog, "istio.log": istio, "envoy_json.log": envoy_json,
    "alb_h2.log": alb_h2, "elb_classic.log": elb_classic, "cloudfront.log": cloudfront, "iis.log": iis,
    "docker_text.log": docker_text, "docker_json_app.log": docker_json_app, "cri_java.log": cri_java,
    "docker_java.log": docker_java, "journal_java.log": journal_java, "zap_crash.log": zap_crash,
    "journal_short_iso.log": journal_short_iso, "journal_short_precise.log": journal_short_precise,
    "journal.json": journal_json, "rfc5424_sd.log": rfc5424, "rfc3164.log": rfc3164, "spring_boot.log": spring_boot,
    "logback_time_only.log": logback_time_only, "tomcat.log": tomcat, "python_traceback.log": python_traceback,
    "gunicorn.log": gunicorn, "django_runserver.log": django_runserver, "go_panic.log": go_panic, "pino.log": pino,
    "bunyan.log": bunyan, "winston.log": winston, "rails.log": rails, "heroku_router.log": heroku_router,
    "tracing_ansi.log": tracing_ansi, "crlf_log4j.log": crlf_log4j, "mixed_offsets.log": mixed_offsets,
    "postgres.log": postgres, "mysql.log": mysql, "mongodb.log": mongodb, "elasticsearch.log": elasticsearch,
    "gcp.jsonl": gcp, "cloudwatch.json": cloudwatch, "gcloud.json": gcloud,
}
HEADERS = {"cloudfront.log": CLOUDFRONT_HEADER, "iis.log": IIS_HEADER}
DOCUMENTS: dict[str, Callable[[list[str]], str]] = {"cloudwatch.json": _cloudwatch_document, "gcloud.json": _gcloud_document}
NEWLINE = {"crlf_log4j.log": "\r\n"}
CRASHES = ("panic: ", "fatal error: ")


def write_style(directory: Path, name: str, *, seed: int = 1, minutes: int = 90) -> tuple[Path, int, int]:
    """Write one style's file; return (path, stamped records, error records)."""
    rnd = random.Random(seed)
    lines: list[str] = []
    records = errors = 0
    i = 0
    for m in range(minutes):
        for k in range(20):
            t = T0 + timedelta(minutes=m, seconds=k * 3, microseconds=rnd.randint(0, 999_999))
            err = (t >= ONSET and rnd.random() < 0.5) or rnd.random() < 0.005
            recs = STYLES[name](t, err, i)
            for rec in recs:
                lines += rec
            # A runtime's crash report has no stamp: a record, but not one of the timeline's totals.
            records += sum(1 for r in recs if not r[0].startswith(CRASHES))
            errors += err
            i += 1
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if name in DOCUMENTS:
        path.write_text(DOCUMENTS[name](lines), encoding="utf-8")
    else:
        nl = NEWLINE.get(name, "\n")
        path.write_bytes((nl.join(HEADERS.get(name, []) + lines) + nl).encode("utf-8"))
    return path, records, errors
