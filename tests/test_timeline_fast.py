"""The fixed-layout fast path (rg prints minute keys) agrees with the general reader and with
its pure-Python twin, on plain, windowed, CRLF and gzip files."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from incident.tools import minutes
from incident.tools.timeline import error_timeline
from incident.tools.timestamps import detect
from logs_fixtures import NOW, ONSET, T0, incident_lines, iso_line, log4j, write


def _buckets(path: Path, **kw: object) -> list[tuple[datetime, int, int]]:
    tl = error_timeline([path], now=NOW, **kw)  # type: ignore[arg-type]
    return [(b.at, b.errors, b.total) for b in tl.buckets]


def _layout(lines: list[str]) -> minutes.Layout | None:
    raw = [x.encode() for x in lines]
    return minutes.detect_layout(raw, detect(raw, NOW))


def test_layout_is_found_only_where_it_holds() -> None:
    assert _layout(incident_lines(log4j)[:300]) is not None
    assert _layout(incident_lines(iso_line)[:300]) is not None
    assert _layout([f"[svc] {x}" for x in incident_lines(iso_line)[:300]]) is not None
    # The level is not right after the stamp, there is no level, JSON, access logs: general path.
    py = [t.strftime("%Y-%m-%d %H:%M:%S,000") + f" - shop.api - {lv} - {m}" for t, lv, m in
          [(T0 + timedelta(seconds=i), "INFO", "ok") for i in range(50)]]
    assert _layout(py) is None
    assert _layout([t.strftime("%b %d %H:%M:%S") + " web-1 app[1]: ERROR x" for t in (T0, T0, T0, T0, T0, T0)]) is None
    assert _layout([json.dumps({"time": "2026-11-21T14:00:00Z", "level": "error", "msg": "x"})] * 10) is None
    # One line whose level is elsewhere is enough to refuse.
    mixed = incident_lines(log4j)[:100]
    mixed[40] = "2026-11-21 13:01:00,000 [main] ERROR boom"
    assert _layout(mixed) is None


@pytest.mark.parametrize("fmt", [log4j, iso_line])
def test_rg_python_and_general_path_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt) -> None:
    lines = incident_lines(fmt)
    # A WARN with a trace is a warning; an ERROR's trace is one record.
    lines.insert(50, lines[49].replace("INFO ", "WARN ").replace(" INFO", " WARN"))
    lines[51:51] = ["java.lang.IllegalStateException: not an error record", "\tat x.y(Z.java:1)"]
    plain = write(tmp_path / "a.log", lines)
    crlf = write(tmp_path / "b.log", lines, crlf=True)
    gz = write(tmp_path / "c.log.gz", lines, gz=True)
    since = NOW - timedelta(minutes=45)
    ref = _buckets(plain, since=None, until=None)
    ref_win = _buckets(plain, since=since, until=None)
    assert sum(b[1] for b in ref) == sum(1 for x in lines if "ERROR" in x[:40])  # each record once
    for p in (crlf, gz):
        assert _buckets(p, since=None, until=None) == ref, p
    assert _buckets(gz, since=since, until=None) == ref_win
    monkeypatch.setattr("incident.tools.logscan.find_rg", lambda: None)
    assert _buckets(plain, since=None, until=None) == ref
    assert _buckets(plain, since=since, until=None) == ref_win
    assert _buckets(gz, since=None, until=None) == ref
    monkeypatch.undo()
    monkeypatch.setattr("incident.tools.timeline.detect_layout", lambda sample, parser: None)
    assert _buckets(plain, since=None, until=None) == ref
    assert [b[:2] for b in _buckets(plain, since=since, until=None)] == [b[:2] for b in ref_win]


def test_errors_only_counts_match(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = write(tmp_path / "a.log", incident_lines(log4j))
    full = error_timeline([p], since=None, until=None, now=NOW)
    quick = error_timeline([p], since=None, until=None, now=NOW, totals=False)
    assert [b.errors for b in quick.buckets] == [b.errors for b in full.buckets]
    assert quick.onset == full.onset == ONSET
    monkeypatch.setattr("incident.tools.logscan.find_rg", lambda: None)
    py = error_timeline([p], since=None, until=None, now=NOW, totals=False)
    assert [b.errors for b in py.buckets] == [b.errors for b in full.buckets]


def test_zones_in_the_stamp_are_honoured(tmp_path: Path) -> None:
    def plus2(t: datetime, level: str, msg: str) -> str:
        local = t + timedelta(hours=2)
        return local.strftime("%Y-%m-%dT%H:%M:%S.000+02:00") + f" {level} {msg}"

    p = write(tmp_path / "tz.log", incident_lines(plus2, trace=False))
    tl = error_timeline([p], since=None, until=None, now=NOW, totals=False)
    assert tl.onset == ONSET and tl.buckets[0].at == T0


def test_rg_is_started_with_a_fixed_argv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = write(tmp_path / "-e x.log", incident_lines(log4j))
    seen: list[list[str]] = []
    real = subprocess.Popen

    def spy(argv, *a, **kw):  # type: ignore[no-untyped-def]
        assert isinstance(argv, list) and not kw.get("shell")
        seen.append(list(argv))
        return real(argv, *a, **kw)

    monkeypatch.setattr(subprocess, "Popen", spy)
    tl = error_timeline([p], since=None, until=None, now=NOW)
    assert tl.onset == ONSET
    assert seen and all(Path(a[0]).name == "rg" and a[-2] == "--" and a[-1] == str(p) for a in seen)


def test_a_failing_rg_falls_back_to_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = write(tmp_path / "a.log", incident_lines(log4j))
    ref = _buckets(p, since=None, until=None)
    fake = tmp_path / "rg"
    fake.write_text("#!/bin/sh\nexit 2\n")
    fake.chmod(0o755)
    monkeypatch.setattr("incident.tools.logscan.find_rg", lambda: str(fake))
    assert _buckets(p, since=None, until=None) == ref
