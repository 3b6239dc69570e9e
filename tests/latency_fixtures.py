"""Generated logs that carry request durations, in the formats real services and proxies write.

Each writer takes (time, endpoint, status, duration in ms) rows and returns the log text; the
tests compare what `tools/latency.py` reads against the exact values written.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Row = tuple[datetime, str, int, float]  # at, "GET /api/cart", status, duration in ms

T0 = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
_MON = "Nov"


def _clf(at: datetime) -> str:
    return at.strftime(f"%d/{_MON}/%Y:%H:%M:%S +0000")


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def kv_ms(r: Row) -> str:
    at, ep, status, ms = r
    m, p = ep.split(" ", 1)
    return f"{_iso(at)} INFO [checkout] method={m} path={p} status={status} duration_ms={ms:.0f} request_id=ab12"


def json_go(r: Row) -> str:
    at, ep, status, ms = r
    m, p = ep.split(" ", 1)
    return f'{{"ts":"{_iso(at)}","level":"info","msg":"request","method":"{m}","path":"{p}","status":{status},"latency":"{ms:.3f}ms"}}'


def json_seconds(r: Row) -> str:
    # zap's production encoder: a float number of seconds under a bare key.
    at, ep, status, ms = r
    m, p = ep.split(" ", 1)
    return f'{{"ts":"{_iso(at)}","level":"info","msg":"served","path":"{p}","status":{status},"elapsed":{ms / 1000:.6f}}}'


def json_camel(r: Row) -> str:
    at, ep, status, ms = r
    m, p = ep.split(" ", 1)
    return f'{{"@timestamp":"{_iso(at)}","message":"{m} {p} {status}","responseTimeMs":{ms:.0f}}}'


def nginx_rt(r: Row) -> str:
    at, ep, status, ms = r
    return (f'10.0.0.7 - - [{_clf(at)}] "{ep} HTTP/1.1" {status} 512 "-" "curl/8.4" '
            f'{ms / 1000:.3f} {max(0.0, ms - 1) / 1000:.3f}')


def nginx_kv(r: Row) -> str:
    at, ep, status, ms = r
    return (f'10.0.0.7 - - [{_clf(at)}] "{ep} HTTP/1.1" {status} 512 "-" "curl/8.4" '
            f'rt={ms / 1000:.3f} uct="0.000" urt="{ms / 1000:.3f}"')


def apache_d(r: Row) -> str:
    at, ep, status, ms = r
    return f'10.0.0.7 - - [{_clf(at)}] "{ep} HTTP/1.1" {status} 512 "-" "Mozilla/5.0" {ms * 1000:.0f}'


def alb(r: Row) -> str:
    at, ep, status, ms = r
    m, p = ep.split(" ", 1)
    # request / target / response processing: the target takes almost all of it.
    return (f"https {at.isoformat(timespec='microseconds').replace('+00:00', 'Z')} app/shop-lb/50dc6c495c0c9188 "
            f"192.168.131.39:2817 10.0.0.1:80 0.001 {(ms - 2) / 1000:.3f} 0.001 {status} {status} 34 366 "
            f'"{m} https://shop.example.com:443{p} HTTP/1.1" "curl/8.4" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2')


def envoy(r: Row) -> str:
    at, ep, status, ms = r
    return (f'[{_iso(at)}] "{ep} HTTP/2" {status} - 154 2048 {ms:.0f} {max(0, ms - 1):.0f} "10.0.35.28" "curl/8.4" '
            f'"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "shop" "tcp://10.0.2.1:80"')


def istio(r: Row) -> str:
    at, ep, status, ms = r
    return (f'[{_iso(at)}] "{ep} HTTP/1.1" {status} - via_upstream - "-" 0 2048 {ms:.0f} {max(0, ms - 1):.0f} '
            f'"-" "curl/8.4" "cc21d9b0" "shop.example.com" "10.0.2.1:8080" outbound|80||shop.svc 10.0.1.5:41234 '
            f"10.0.2.1:8080 10.0.1.5:41230 - default")


def haproxy(r: Row) -> str:
    at, ep, status, ms = r
    stamp = at.strftime(f"%d/{_MON}/%Y:%H:%M:%S.") + f"{at.microsecond // 1000:03d}"
    return (f"{at.strftime('%b %d %H:%M:%S')} lb1 haproxy[14389]: 10.0.1.2:33317 [{stamp}] http-in "
            f'static/srv1 1/0/2/{max(0, ms - 4):.0f}/{ms:.0f} {status} 2750 - - ---- 1/1/1/1/0 0/0 "{ep} HTTP/1.1"')


def go_text(r: Row) -> str:
    at, ep, status, ms = r
    d = f"{ms / 1000:.3f}s" if ms >= 1000 else f"{ms:.1f}ms"
    return f"{_iso(at)} INFO request completed path={ep.split(' ', 1)[1]} status={status} took={d}"


FORMATS: dict[str, Callable[[Row], str]] = {
    "kv_ms": kv_ms, "json_go": json_go, "json_seconds": json_seconds, "json_camel": json_camel, "nginx_rt": nginx_rt,
    "nginx_kv": nginx_kv, "apache_d": apache_d, "alb": alb, "envoy": envoy, "istio": istio, "haproxy": haproxy,
    "go_text": go_text,
}
# How precisely each format writes the duration (ms), on top of the sketch's 2%.
RESOLUTION = {"nginx_rt": 1.0, "nginx_kv": 1.0, "alb": 1.0, "haproxy": 1.0, "envoy": 1.0, "istio": 1.0, "kv_ms": 1.0,
              "json_camel": 1.0, "go_text": 1.0}

ENDPOINTS = ("GET /api/cart", "GET /api/products", "POST /api/checkout")


def latency_rows(
    minutes: int, *, per_minute: int = 40, slow_from: int | None = None, slow_until: int | None = None,
    slow_endpoint: str = "POST /api/checkout", seed: int = 3, start: datetime = T0, slow_ms: tuple[int, int] = (1500, 2500),
) -> list[Row]:
    """Requests over `minutes`: 20-120 ms, except `slow_endpoint` at 1.5-2.5 s in [slow_from, slow_until).
    Errors stay at the same flat trickle throughout (one 502 every few minutes)."""
    rng = random.Random(seed)
    rows: list[Row] = []
    for m in range(minutes):
        minute = start + timedelta(minutes=m)
        for i in range(per_minute):
            at = minute + timedelta(seconds=60 * (i + rng.random()) / per_minute)
            ep = ENDPOINTS[rng.randrange(len(ENDPOINTS))]
            slow = slow_from is not None and m >= slow_from and (slow_until is None or m < slow_until)
            ms = rng.uniform(*slow_ms) if slow and ep == slow_endpoint else rng.uniform(20, 120)
            status = 502 if (m * per_minute + i) % 400 == 7 else 200
            rows.append((at, ep, status, round(ms, 0)))
    return rows


def write(rows: list[Row], fmt: str) -> str:
    return "".join(FORMATS[fmt](r) + "\n" for r in rows)
