"""Per-endpoint error counts from a literal prefilter, and pattern mining from candidate records,
agree with a line-by-line reading of the same files."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from incident.tools import logscan, patterns
from incident.tools.endpoints import endpoint_of, endpoint_stats
from incident.tools.logscan import is_error
from incident.tools.patterns import mine_patterns
from logs_fixtures import NOW, ONSET, T0, incident_lines, iso, log4j, write


def test_endpoint_of_reads_method_and_path_anywhere() -> None:
    assert endpoint_of(b"2026-11-21T14:00:00Z ERROR [web-1] POST /api/checkout failed: 500") == "/api/checkout"
    assert endpoint_of(b"2026-11-21T14:00:00Z INFO handled GET /api/orders/12345?x=1 in 4ms") == "/api/orders/:id"
    assert endpoint_of(b'10.0.0.1 - - [21/Nov/2026:14:10:00 +0000] "DELETE /api/cart/9 HTTP/1.1" 503 1') == "/api/cart/:id"
    assert endpoint_of(b"proxy GET http://inventory.internal/v1/stock/7f3a9c1e2b4d5f60 502") == "/v1/stock/:id"
    # METHOD /path outranks path=, which outranks service=; words merely containing a method do not count.
    assert endpoint_of(b"service=shop path=/a retry POST /b") == "/b"
    assert endpoint_of(b"service=shop path=/a/ done") == "/a/"
    assert endpoint_of(b"service=shop status=500") == "shop"
    assert endpoint_of(b"FORGET /x and xpath=/y") is None
    assert endpoint_of(b'{"time":"2026-11-21T14:00:00Z","req":{"path":"/api/pay/123"}}') is None
    assert endpoint_of(b'{"time":"2026-11-21T14:00:00Z","http":{"route":"/api/pay"}}') == "/api/pay"


def _app_log(tmp_path: Path) -> Path:
    rnd = random.Random(3)
    lines: list[str] = []
    t = T0
    while t < NOW:
        ep = rnd.choice(["POST /api/checkout", "GET /api/cart", f"GET /api/products/{rnd.randint(1, 99)}"])
        bad = ep.startswith("POST") and t >= ONSET and rnd.random() < 0.5
        lines.append(f"{iso(t)} {'ERROR' if bad else 'INFO '} [web-1] {ep} took {rnd.randint(1, 900)}ms")
        if bad:
            lines += ["Traceback (most recent call last):", '  File "/app/pay.py", line 3, in charge',
                      "    raise Upstream('POST /api/charge said 503')", "Upstream: POST /api/charge said 503"]
        if rnd.random() < 0.05:
            # No level word, but a trace with an exception: an error record all the same.
            lines += [f"{iso(t)} [web-1] GET /api/cart slow", "java.lang.IllegalStateException: pool exhausted"]
        t += timedelta(seconds=rnd.choice([1, 2, 3]))
    return write(tmp_path / "app.log", lines)


def _slow_stats(path: Path, since: datetime | None, until: datetime | None) -> dict[str, tuple[int, int]]:
    """The definition, one record at a time."""
    parser = logscan.parser_for(path, NOW)
    out: dict[str, tuple[int, int]] = {}
    for rec in logscan.iter_records(path, parser):
        if rec.ts is None or (since and rec.ts < since.timestamp()) or (until and rec.ts >= until.timestamp()):
            continue
        name = endpoint_of(rec.first)
        if name:
            e, t = out.get(name, (0, 0))
            out[name] = (e + is_error(rec.lines), t + 1)
    return out


@pytest.mark.parametrize("window", [(None, None), (ONSET - timedelta(minutes=30), ONSET), (ONSET, None)])
def test_endpoint_stats_match_a_record_by_record_count(tmp_path: Path, window) -> None:
    p = _app_log(tmp_path)
    got = endpoint_stats([p], since=window[0], until=window[1], now=NOW, limit=500)
    assert {s.name: (s.errors, s.total) for s in got} == _slow_stats(p, *window)
    if window[0] == ONSET:
        assert got[0].name == "/api/checkout" and got[0].errors > 100
        assert "/api/charge" not in {s.name for s in got}  # named only inside traces


def test_mining_candidates_equals_mining_every_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [_app_log(tmp_path / "a"), write(tmp_path / "b" / "app.log", incident_lines(log4j))]
    real = patterns._window_records
    for level in ("error", "warn"):
        fast = mine_patterns(paths, since=T0, until=None, now=NOW, level=level, new_since=ONSET)  # type: ignore[arg-type]
        monkeypatch.setattr(patterns, "_window_records", lambda path, parser, lo, hi, level="any": real(path, parser, lo, hi, "any"))
        slow = mine_patterns(paths, since=T0, until=None, now=NOW, level=level, new_since=ONSET)  # type: ignore[arg-type]
        monkeypatch.undo()
        assert [p.model_dump() for p in fast] == [p.model_dump() for p in slow], level
        assert any(p.new for p in fast)
