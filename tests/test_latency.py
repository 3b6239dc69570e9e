"""Request durations read from generated logs in the formats services and proxies write, the
sketch's percentiles against exact ones, units, and the onset of a sustained p95 rise."""

from __future__ import annotations

import json
import math
import random
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.latency_fixtures import FORMATS, T0, latency_rows, write

from incident.tools.latency import (
    GAMMA,
    bucket_of,
    choose,
    endpoint_latency,
    human_ms,
    key_unit,
    parse_duration,
    profile,
    quantiles,
)

NOW = T0 + timedelta(minutes=60)
_ERR = math.sqrt(GAMMA) - 1 + 1e-9  # a bucket's middle is this close (relative) to every value in it


def _exact(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[max(1, math.ceil(q * len(s))) - 1]


def _close(got: float | None, want: float, slack_ms: float = 0.0) -> bool:
    return got is not None and abs(got - want) <= want * _ERR + slack_ms


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_gives_the_exact_percentiles_within_the_sketch(tmp_path: Path, fmt: str) -> None:
    rows = latency_rows(30, per_minute=60, slow_from=20)
    log = tmp_path / "app.log"
    log.write_text(write(rows, fmt))
    prof = profile([log], since=T0, until=T0 + timedelta(minutes=30), now=NOW)
    assert prof.sources and fmt not in ("",)
    assert prof.requests == len(rows), prof.sources
    assert [m.count for m in prof.minutes] == [60] * 30
    slack = 1.0  # formats that write whole ms or ms-resolution seconds
    for minute in (prof.minutes[3], prof.minutes[25]):
        values = [ms for at, _, _, ms in rows if minute.at <= at < minute.at + timedelta(minutes=1)]
        for q, got in ((0.5, minute.p50_ms), (0.95, minute.p95_ms), (0.99, minute.p99_ms)):
            assert _close(got, _exact(values, q), slack), (fmt, q, got, _exact(values, q))
    assert prof.onset == T0 + timedelta(minutes=20), (fmt, [m.p95_ms for m in prof.minutes])
    assert prof.baseline_p95_ms is not None and 100 <= prof.baseline_p95_ms <= 125
    assert prof.still_elevated and prof.recent_p95_ms is not None and prof.recent_p95_ms > 1500


def test_no_durations_no_profile(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("".join(f"{(T0 + timedelta(seconds=i)).isoformat()} INFO user 42 logged in after 3 attempts\n" for i in range(300)))
    prof = profile([log], since=T0, until=NOW, now=NOW)
    assert prof.requests == 0 and prof.onset is None and prof.minutes == []


def test_recovery_and_no_rise_from_noise(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(write(latency_rows(50, slow_from=20, slow_until=32), "kv_ms"))
    prof = profile([log], since=T0, until=T0 + timedelta(minutes=50), now=NOW)
    assert prof.onset == T0 + timedelta(minutes=20)
    assert not prof.still_elevated and prof.recovered_at == T0 + timedelta(minutes=32)
    assert prof.peak_p95_ms is not None and prof.peak_p95_ms > 1500
    flat = tmp_path / "flat.log"
    flat.write_text(write(latency_rows(50), "kv_ms"))
    assert profile([flat], since=T0, until=T0 + timedelta(minutes=50), now=NOW).onset is None


def test_a_short_blip_is_no_onset(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(write(latency_rows(40, slow_from=20, slow_until=23), "json_go"))
    assert profile([log], since=T0, until=T0 + timedelta(minutes=40), now=NOW).onset is None


def test_window_and_endpoint_filter(tmp_path: Path) -> None:
    rows = latency_rows(40, slow_from=25)
    log = tmp_path / "app.log"
    log.write_text(write(rows, "nginx_rt"))
    prof = profile([log], since=T0 + timedelta(minutes=10), until=T0 + timedelta(minutes=20), now=NOW)
    assert [m.at for m in prof.minutes] == [T0 + timedelta(minutes=k) for k in range(10, 20)]
    only = profile([log], since=T0, until=T0 + timedelta(minutes=40), now=NOW, endpoint="/api/checkout")
    assert only.requests == sum(1 for r in rows if r[1] == "POST /api/checkout")
    eps = endpoint_latency([log], split=T0 + timedelta(minutes=25), since=T0, until=T0 + timedelta(minutes=40), now=NOW)
    assert eps[0].name == "/api/checkout" and eps[0].p95_ms and eps[0].p95_ms > 1500
    assert eps[0].baseline_p95_ms and eps[0].baseline_p95_ms < 125
    assert {e.name for e in eps} == {"/api/checkout", "/api/cart", "/api/products"}


def test_gzip_and_busy_minutes_are_sampled_but_close(tmp_path: Path) -> None:
    import gzip

    rows = latency_rows(12, per_minute=3000, slow_from=6)
    log = tmp_path / "app.log.gz"
    log.write_bytes(gzip.compress(write(rows, "kv_ms").encode()))
    prof = profile([log], since=T0, until=NOW, now=NOW)
    assert 0 < prof.minutes[0].count < 3000  # a busy minute is read from a sample of it
    values = [ms for at, _, _, ms in rows if at < T0 + timedelta(minutes=1)]
    # A sample of a few hundred: the p50 of a uniform 20-120 ms within a few percent.
    assert prof.minutes[0].p50_ms is not None and abs(prof.minutes[0].p50_ms - _exact(values, 0.5)) < 8
    assert prof.onset == T0 + timedelta(minutes=6)


@pytest.mark.parametrize(("token", "unit", "want"), [
    (b"123ms", 1.0, 123.0), (b"1.2s", 1.0, 1200.0), ("350µs".encode(), 1.0, 0.35), (b"350us", 1.0, 0.35),
    (b"1m2.5s", 1.0, 62_500.0), (b"2h", 1.0, 7_200_000.0), (b"1500000ns", 1.0, 1.5), (b"0.250", 1000.0, 250.0),
    (b"42", 1.0, 42.0), (b"42", 1e-3, 0.042), (b"abc", 1.0, None), (b"1.2.3", 1.0, None), (b"12ms3", 1.0, None),
])
def test_units(token: bytes, unit: float, want: float | None) -> None:
    got = parse_duration(token, unit)
    assert (got is None) if want is None else (got is not None and math.isclose(got, want))


@pytest.mark.parametrize(("key", "want"), [
    ("duration_ms", 1.0), ("responseTimeMs", 1.0), ("latency_us", 1e-3), ("duration_ns", 1e-6), ("duration_seconds", 1000.0),
    ("request_time", 1000.0), ("upstream_response_time", 1000.0), ("rt", 1000.0), ("duration", None), ("took", None),
])
def test_key_units(key: str, want: float | None) -> None:
    assert key_unit(key) == want


def test_bare_key_unit_from_the_values() -> None:
    ms = choose([b'{"latency": 35}', b'{"latency": 120}', b'{"latency": 48}'])
    s = choose([b'{"latency": 0.035}', b'{"latency": 0.120}', b'{"latency": 0.048}'])
    assert ms is not None and ms.unit_ms == 1.0
    assert s is not None and s.unit_ms == 1000.0


def test_hostile_values_are_skipped(tmp_path: Path) -> None:
    lines = [f"{(T0 + timedelta(seconds=i)).isoformat()} INFO path=/x duration_ms={v}"
             for i, v in enumerate(["12", "1e309", "99999999999999", "-5", "nan", "", "12.5.6", "7"] * 20)]
    log = tmp_path / "app.log"
    log.write_text("\n".join(lines) + "\n")
    prof = profile([log], since=T0, until=NOW, now=NOW)
    assert prof.requests == 40  # only 12 and 7 are durations
    assert prof.minutes[0].p99_ms is not None and prof.minutes[0].p99_ms < 13


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0.01, max_value=600_000, allow_nan=False), min_size=1, max_size=400),
       st.sampled_from([0.5, 0.9, 0.95, 0.99, 1.0]))
def test_sketch_percentile_within_bucket_error(values: list[float], q: float) -> None:
    sketch: dict[int, int] = {}
    for v in values:
        b = bucket_of(v)
        sketch[b] = sketch.get(b, 0) + 1
    got = quantiles(sketch, [q])[0]
    assert _close(got, _exact(values, q))


def test_human_ms() -> None:
    assert [human_ms(x) for x in (0.35, 120, 1900, 150_000, None)] == ["350 µs", "120 ms", "1.9 s", "2.5 min", "unknown"]


def test_order_of_lines_within_a_minute_does_not_matter(tmp_path: Path) -> None:
    rows = latency_rows(15, slow_from=8)
    rng = random.Random(1)
    shuffled = []
    for m in range(15):
        block = [r for r in rows if T0 + timedelta(minutes=m) <= r[0] < T0 + timedelta(minutes=m + 1)]
        rng.shuffle(block)
        shuffled += block
    log = tmp_path / "app.log"
    log.write_text(write(shuffled, "kv_ms"))
    prof = profile([log], since=T0, until=NOW, now=NOW)
    assert prof.requests == len(rows) and prof.onset == T0 + timedelta(minutes=8)


@pytest.mark.parametrize("nested", [True, False])
def test_elastic_common_schema_event_duration_is_nanoseconds(tmp_path: Path, nested: bool) -> None:



    rows = []
    for i in range(1200):  # 2 h, a record every 6 s; 50 ms, then 900 ms for the last 30 min
        at = T0 + timedelta(seconds=6 * i)
        ns = 50_000_000 if i < 900 else 900_000_000
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        doc = ({"@timestamp": stamp, "ecs": {"version": "8.11.0"}, "message": "GET /api/x", "event": {"duration": ns}}
               if nested else {"@timestamp": stamp, "message": "GET /api/x", "event.duration": ns})
        rows.append(json.dumps(doc))
    log = tmp_path / "ecs.log"
    log.write_text("\n".join(rows) + "\n")
    end = T0 + timedelta(hours=2)
    p = profile([log], since=T0, until=end, now=end)
    assert p.baseline_p95_ms is not None and 45 <= p.baseline_p95_ms <= 55
    assert p.recent_p95_ms is not None and 850 <= p.recent_p95_ms <= 950
    assert p.onset == T0 + timedelta(minutes=90)
