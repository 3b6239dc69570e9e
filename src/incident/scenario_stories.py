"""Incidents other than a bad deploy, written the way the service would log them.

`ScenarioSpec.story` names one; `app_lines` then writes the application log minute by minute:
each story says, for a minute relative to the onset, how much traffic arrives, which requests
fail and with what message, how slow the rest are, and what the process itself logs (restarts,
pool warnings, disk-usage warnings). The messages are the ones the real libraries print
(SQLAlchemy's QueuePool, libpq, the JVM, errno 28, Go's x509 and resolver errors), so the
engine is tested against what an on-call engineer actually sees.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from incident.scenario import ScenarioSpec

Story = Literal[
    "config", "db-saturation", "memory-leak", "disk-full", "tls-expired", "dns", "traffic-spike", "crash-loop",
    "migration", "self-recovered", "slow-burn",
]
DB_ENDPOINTS = ("GET /api/cart", "GET /api/products", "POST /api/checkout")
ErrorFn = Callable[[random.Random, str], tuple[int, list[str]]]  # (status, record lines after the head)


@dataclass
class Minute:
    """What one minute looks like, relative to the onset."""

    traffic: float = 1.0  # multiple of the usual request rate
    fail: float = 0.0  # chance a request to one of `endpoints` fails
    endpoints: tuple[str, ...] = ("POST /api/checkout",)
    error: ErrorFn | None = None
    slow: tuple[int, int] = (4, 60)  # duration_ms of the requests that succeed
    events: list[tuple[float, str, list[str]]] = field(default_factory=list)  # (second, level, lines): the process's own


def _py_trace(frames: list[tuple[str, int, str, str]], exc: str) -> list[str]:
    out = ["Traceback (most recent call last):"]
    for path, line, fn, code in frames:
        out += [f'  File "{path}", line {line}, in {fn}', f"    {code}"]
    return [*out, exc]


_API = ("/app/checkout/api.py", 6, "post_checkout", "quote = shipping.quote(c, request.address)")
_SQLA = ("/usr/local/lib/python3.11/site-packages/sqlalchemy/pool/base.py", 1486, "_checkout", "rec = pool._do_get()")


# ---------------------------------------------------------------- the stories


def _config(m: float, rng: random.Random) -> Minute:
    if m < 0:
        return Minute()

    def err(r: random.Random, ep: str) -> tuple[int, list[str]]:
        frames = [_API, ("/app/checkout/shipping.py", 5, "quote", "return RATES[settings.RATES_TABLE].get(address.region, 9.0)")]
        return 500, ["unhandled exception", *_py_trace(frames, "KeyError: 'rates_2027'")]

    return Minute(fail=0.9, error=err)


def _db_saturation(m: float, rng: random.Random) -> Minute:
    # Slow queries pile up first (latency climbs for twenty minutes), then the pool runs dry.
    events = []
    if -20 <= m < 0:
        in_use = min(30, 14 + int((m + 20) * 0.9))
        events.append((30.0, "WARN ", [f"db pool near capacity: checked_out={in_use} size=20 overflow={max(0, in_use - 20)}/10 waiting={max(0, int(m + 12))}"]))
    slow = (40, 120) if m < -20 else (int(200 + (m + 20) * 90), int(900 + (m + 20) * 160)) if m < 0 else (2500, 30000)

    def err(r: random.Random, ep: str) -> tuple[int, list[str]]:
        x = r.random()
        if x < 0.7:
            frames = [("/app/checkout/cart.py", 4, "load", "return db.session.execute(CART_QUERY, {'user': user.id}).all()"), _SQLA]
            exc = ("sqlalchemy.exc.TimeoutError: QueuePool limit of size 20 overflow 10 reached, connection timed out, "
                   "timeout 30.00 (Background on this error at: https://sqlalche.me/e/20/3o7r)")
            return 500, ["unhandled exception", *_py_trace(frames, exc)]
        if x < 0.9:
            exc = ('psycopg2.OperationalError: connection to server at "db-primary.internal" (10.0.3.12), port 5432 failed: '
                   "FATAL:  sorry, too many clients already")
            return 500, ["unhandled exception", *_py_trace([("/app/checkout/db.py", 11, "connect", "return engine.connect()")], exc)]
        exc = "psycopg2.errors.LockNotAvailable: canceling statement due to lock timeout"
        frames = [("/app/checkout/orders.py", 31, "reserve_stock", "db.session.execute(RESERVE, rows)")]
        return 500, ["unhandled exception", *_py_trace(frames, exc)]

    return Minute(fail=0.0 if m < 0 else min(0.45, 0.25 + m * 0.01), endpoints=DB_ENDPOINTS, error=err, slow=slow, events=events)


MEMORY_PERIOD = 25  # minutes between OOM kills once the heap is full


def _memory_leak(m: float, rng: random.Random) -> Minute:
    # Before the onset the heap has been filling since the release; from the onset the JVM
    # thrashes in GC for its last five minutes, dies, and the fresh one fills again: a sawtooth.
    if m < 0:
        return Minute(slow=(8, 90))
    phase = m % MEMORY_PERIOD
    if phase >= 5:
        return Minute(slow=(8, 90))
    events = []
    if phase < 1 and m >= MEMORY_PERIOD:
        events = [(5.0, "INFO ", ["Starting CatalogApplication v3.8.0 using Java 17.0.9 with PID 1 (/app/catalog.jar)"]),
                  (14.0, "INFO ", ["Started CatalogApplication in 8.41 seconds (process running for 9.2)"])]

    def err(r: random.Random, ep: str) -> tuple[int, list[str]]:
        if r.random() < 0.3:
            return 503, ["request timed out after 2000ms: GC pause (G1 Evacuation Pause) 1843ms"]
        head = "java.lang.OutOfMemoryError: Java heap space" if r.random() < 0.8 else "java.lang.OutOfMemoryError: GC overhead limit exceeded"
        return 500, ["unhandled exception", head,
                     "\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)",
                     "\tat com.fasterxml.jackson.core.util.TextBuffer.expand(TextBuffer.java:1020)",
                     "\tat com.fasterxml.jackson.databind.ObjectMapper.writeValueAsString(ObjectMapper.java:4719)",
                     f"\tat com.shop.catalog.api.ProductController.{'list' if 'products' in ep else 'get'}(ProductController.java:88)",
                     "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883)"]

    return Minute(fail=0.15 + 0.1 * phase, endpoints=("GET /api/products", "GET /api/cart", "POST /api/checkout"),
                  error=err, slow=(900, 4000), events=events)


def _disk_full(m: float, rng: random.Random) -> Minute:
    events = []
    if -60 <= m < 0 and int(m) % 10 == 0:
        events.append((2.0, "WARN ", [f"disk usage on /var/lib/checkout at {int(93 + (m + 60) / 10)}%"]))

    def err(r: random.Random, ep: str) -> tuple[int, list[str]]:
        name = f"{r.getrandbits(40):010x}.pdf"
        frames = [("/app/checkout/api.py", 8, "post_checkout", "receipts.store(order)"),
                  ("/app/checkout/receipts.py", 14, "store", "with open(path, 'wb') as f:")]
        exc = f"OSError: [Errno 28] No space left on device: '/var/lib/checkout/receipts/{name}'"
        return 500, ["unhandled exception", *_py_trace(frames, exc)]

    return Minute(fail=0.0 if m < 0 else 0.97, error=err, events=events)


def _tls(m: float, rng: random.Random) -> Minute:
    def err(r: random.Random, ep: str) -> tuple[int, list[str]]:
        return 502, ['payment provider call failed: Post "https://api.payments-provider.example.net/v1/charges": '
                     "x509: certificate has expired or is not yet valid: current time 2026-11-21T14:32:07Z is after 2026-11-21T14:30:00Z"]

    return Minute(fail=0.0 if m < 0 else 1.0, error=err)


def _dns(m: float, rng: random.Random) -> Minute:
    def err(r: random.Random, ep: str) -> tuple[int, list[str]]:
        if r.random() < 0.6:
            return 503, ['inventory lookup failed: Get "http://inventory.prod.svc.cluster.local:8080/v1/stock": '
                         "dial tcp: lookup inventory.prod.svc.cluster.local on 10.96.0.10:53: no such host"]
        return 503, ['inventory lookup failed: Get "http://inventory.prod.svc.cluster.local:8080/v1/stock": '
                     "dial tcp: lookup inventory.prod.svc.cluster.local on 10.96.0.10:53: server misbehaving"]

    return Minute(fail=0.0 if m < 0 else 0.8, endpoints=("GET /api/cart", "POST /api/checkout"), error=err)


def _traffic(m: float, rng: random.Random) -> Minute:
    if m < 0:
        return Minute()

    def err(r: random.Random, ep: str) -> tuple[int, list[str]]:
        if r.random() < 0.5:
            return 429, ["rate limited: client over 50 req/s (token bucket empty)"]
        if r.random() < 0.6:
            return 503, ["server overloaded: worker queue full (256/256), request rejected"]
        return 504, ["request timed out after 5000ms waiting for a worker"]

    return Minute(traffic=5.0, fail=0.3, endpoints=("GET /api/products", "GET /api/cart", "POST /api/checkout"), error=err, slow=(300, 4800))


CRASH_BACKOFF = (0, 10, 30, 70, 150, 310)  # seconds after the first crash; then every 300 s (CrashLoopBackOff)


def _crash_loop(m: float, rng: random.Random) -> Minute:
    if m < 0:
        return Minute()
    events = []
    for pod in range(3):
        starts = [b + pod * 4 for b in CRASH_BACKOFF]
        starts += [starts[-1] + 300 * k for k in range(1, 200)]
        for s in starts:
            if int(m) * 60 <= s < int(m) * 60 + 60:
                sec = s - int(m) * 60
                trace = _py_trace([("/app/checkout/wsgi.py", 3, "<module>", "from checkout import settings"),
                                   ("/app/checkout/settings.py", 9, "<module>", 'PAYMENTS_URL = os.environ["PAYMENTS_URL"]')],
                                  "KeyError: 'PAYMENTS_URL'")
                events.append((float(sec), "INFO ", [f"starting checkout version=2.4.0 workers=4 pod=checkout-7d9f8-{pod}"]))
                events.append((sec + 0.8, "ERROR", ["worker failed to boot", *trace]))
    return Minute(traffic=0.0, events=events)


def _migration(m: float, rng: random.Random) -> Minute:
    def err(r: random.Random, ep: str) -> tuple[int, list[str]]:
        if r.random() < 0.75:
            frames = [_API, ("/app/checkout/orders.py", 18, "totals", "rows = db.execute(TOTALS_SQL, {'order': order_id})")]
            exc = "psycopg2.errors.UndefinedColumn: column orders.shipping_zone does not exist"
        else:
            frames = [("/app/checkout/orders.py", 27, "history", "return db.execute('SELECT * FROM order_totals_v1 WHERE user_id=%s', (uid,))")]
            exc = 'psycopg2.errors.UndefinedTable: relation "order_totals_v1" does not exist'
        return 500, ["unhandled exception", *_py_trace(frames, exc)]

    return Minute(fail=0.0 if m < 0 else 0.85, endpoints=("POST /api/checkout", "GET /api/cart"), error=err)


def _self_recovered(m: float, rng: random.Random) -> Minute:
    def err(r: random.Random, ep: str) -> tuple[int, list[str]]:
        frames = [("/app/payments/client.py", 2, "charge", "return gateway.post('/charge', amount)"),
                  ("/usr/local/lib/python3.11/site-packages/httpx/_client.py", 1574, "post", "raise ReadTimeout(message, request=request)")]
        return 504, ["unhandled exception", *_py_trace(frames, "httpx.ReadTimeout: timed out waiting for payments.example.net")]

    return Minute(fail=0.6 if 0 <= m < 14 else 0.0, error=err)


SLOW_BURN_MINUTES = 240  # the error share climbs for this long, without a step


def _slow_burn(m: float, rng: random.Random) -> Minute:
    def err(r: random.Random, ep: str) -> tuple[int, list[str]]:
        frames = [("/app/checkout/catalog.py", 22, "search", "return db.execute(SEARCH_SQL, {'q': term}).all()")]
        return 500, ["unhandled exception", *_py_trace(frames, "psycopg2.errors.QueryCanceled: canceling statement due to statement timeout")]

    share = 0.0 if m < 0 else 0.18 * min(1.0, m / SLOW_BURN_MINUTES)
    return Minute(fail=share, endpoints=("GET /api/products",), error=err, slow=(20, int(60 + max(0.0, m) * 6)))


_STORIES: dict[str, Callable[[float, random.Random], Minute]] = {
    "config": _config, "db-saturation": _db_saturation, "memory-leak": _memory_leak, "disk-full": _disk_full,
    "tls-expired": _tls, "dns": _dns, "traffic-spike": _traffic, "crash-loop": _crash_loop, "migration": _migration,
    "self-recovered": _self_recovered, "slow-burn": _slow_burn,
}
_WEIGHTS = (("GET /api/cart", 0.30), ("GET /api/products", 0.25), ("POST /api/checkout", 0.35), ("GET /health", 0.10))


def app_lines(spec: ScenarioSpec, now: datetime) -> list[tuple[datetime, str]]:
    """The application log of `spec.story`, as (time, record text) in time order."""
    from incident.scenario import stamp

    story = _STORIES[spec.story or ""]
    rng = random.Random(spec.seed)
    out: list[tuple[datetime, str]] = []
    minute = spec.onset - timedelta(minutes=spec.history_minutes)
    while minute < now:
        m = (minute - spec.onset).total_seconds() / 60
        plan = story(m, rng)
        for sec, level, lines in plan.events:
            at = minute + timedelta(seconds=sec)
            if at < now:
                out.append((at, "\n".join([f"{stamp(at, spec.log_utc_offset_hours)} {level} [{spec.service}] {lines[0]}", *lines[1:]])))
        for _ in range(round(spec.requests_per_minute * plan.traffic)):
            at = minute + timedelta(seconds=rng.random() * 60)
            if at >= now:
                continue
            endpoint = rng.choices([e for e, _ in _WEIGHTS], [w for _, w in _WEIGHTS])[0]
            status, tail, level = 200, [""], "INFO "
            if plan.error is not None and endpoint in plan.endpoints and rng.random() < plan.fail:
                status, tail = plan.error(rng, endpoint)
                level = "WARN " if status < 500 else "ERROR"
            elif rng.random() < spec.baseline_error_ratio:
                status, tail, level = 502, ["upstream inventory connection reset by peer"], "ERROR"
            ms = rng.randint(*plan.slow) if status < 500 else rng.randint(plan.slow[1], plan.slow[1] * 3 + 100)
            method, path = endpoint.split(" ", 1)
            head = (f"{stamp(at, spec.log_utc_offset_hours)} {level} [{spec.service}] method={method} path={path} "
                    f"status={status} duration_ms={ms} request_id={rng.getrandbits(48):012x}")
            out.append((at, "\n".join([f"{head} {tail[0]}".rstrip(), *tail[1:]])))
        minute += timedelta(minutes=1)
    out.sort(key=lambda r: r[0])
    return out
