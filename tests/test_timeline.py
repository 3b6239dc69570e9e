from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from incident.tools.timeline import build, error_timeline
from logs_fixtures import NOW, ONSET, RECOVERY, T0, incident_lines, iso, iso_line, log4j, write


def _minutes(start: datetime, rates: list[int]) -> dict[int, int]:
    return {int(start.timestamp()) + 60 * i: r for i, r in enumerate(rates)}


def test_onset_with_background_errors_is_the_rise_not_the_first_minute() -> None:
    rates = [2] * 60 + [30] * 20 + [2] * 20
    tl = build(_minutes(T0, rates), None, T0.timestamp(), T0.timestamp() + 6000)
    assert tl.onset == T0 + timedelta(minutes=60)
    assert tl.baseline_errors_per_min == 2
    assert tl.peak_errors_per_min == 30
    assert tl.recovered_at == T0 + timedelta(minutes=80)
    assert tl.still_elevated is False


def test_single_spike_is_not_an_onset() -> None:
    rates = [1] * 30 + [50] + [1] * 29
    tl = build(_minutes(T0, rates), None, T0.timestamp(), T0.timestamp() + 3600)
    assert tl.onset is None
    assert tl.still_elevated is False


def test_still_elevated_at_the_end_of_the_window() -> None:
    rates = [0] * 40 + [12] * 20
    tl = build(_minutes(T0, rates), None, T0.timestamp(), T0.timestamp() + 3600)
    assert tl.onset == T0 + timedelta(minutes=40)
    assert tl.still_elevated is True
    assert tl.recovered_at is None
    assert tl.recent_errors_per_min == 12


def test_noisy_background_does_not_make_an_onset() -> None:
    import random

    rnd = random.Random(7)
    rates = [rnd.choice([0, 1, 2, 3, 4, 2, 1]) for _ in range(120)]
    tl = build(_minutes(T0, rates), None, T0.timestamp(), T0.timestamp() + 7200)
    assert tl.onset is None


def _check_incident(tl_start: datetime | None, path: Path, *, totals_expected: bool = True) -> None:
    tl = error_timeline([path], since=tl_start, until=None, now=NOW)
    assert tl.onset == ONSET
    assert tl.recovered_at == RECOVERY
    assert tl.still_elevated is False
    # background: one ERROR per 30 s; incident: 2 failing records per 4 s, each with a 4-line trace.
    assert tl.baseline_errors_per_min == 2
    by = {b.at: b for b in tl.buckets}
    assert by[ONSET + timedelta(minutes=5)].errors == 2 + 30
    if totals_expected:
        assert by[ONSET + timedelta(minutes=5)].total == 15 + 2 + 30
        assert tl.baseline_error_ratio is not None and 0.1 < tl.baseline_error_ratio < 0.13


def test_file_timeline_counts_a_trace_once(tmp_path: Path) -> None:
    p = write(tmp_path / "app.log", incident_lines(log4j))
    _check_incident(None, p)


def test_since_window_equals_full_scan(tmp_path: Path) -> None:
    p = write(tmp_path / "app.log", incident_lines(log4j))
    since = NOW - timedelta(minutes=90)
    a = error_timeline([p], since=since, until=NOW, now=NOW)
    assert a.start == since and a.end == NOW
    assert a.buckets[0].at == since
    full = error_timeline([p], since=None, until=None, now=NOW)
    by = {b.at: (b.errors, b.total) for b in full.buckets}
    assert [(b.errors, b.total) for b in a.buckets] == [by.get(b.at, (0, 0)) for b in a.buckets]


def test_crlf_gz_and_python_scan_agree_with_rg(tmp_path: Path, monkeypatch) -> None:
    lines = incident_lines(iso_line)
    plain = write(tmp_path / "a.log", lines)
    crlf = write(tmp_path / "b.log", lines, crlf=True)
    gz = write(tmp_path / "c.log.gz", lines, gz=True)
    ref = error_timeline([plain], since=None, until=None, now=NOW)
    assert ref.onset == ONSET
    for p in (crlf, gz):
        got = error_timeline([p], since=None, until=None, now=NOW)
        assert [(b.errors, b.total) for b in got.buckets] == [(b.errors, b.total) for b in ref.buckets], p
    monkeypatch.setattr("incident.tools.logscan.find_rg", lambda: None)
    py = error_timeline([plain], since=None, until=None, now=NOW)
    assert [(b.errors, b.total) for b in py.buckets] == [(b.errors, b.total) for b in ref.buckets]


def test_json_access_and_unordered_styles(tmp_path: Path) -> None:
    def bunyan(t: datetime, level: str, msg: str) -> str:
        return json.dumps({"time": iso(t), "level": 50 if level == "ERROR" else 30, "msg": msg})

    def access(t: datetime, level: str, msg: str) -> str:
        status = 503 if level == "ERROR" else 200
        return f'10.0.0.{len(msg) % 9} - - [{t.strftime("%d/%b/%Y:%H:%M:%S")} +0000] "GET /api/pay HTTP/1.1" {status} 12'

    for name, fmt in (("bunyan.log", bunyan), ("access.log", access)):
        p = write(tmp_path / name, incident_lines(fmt, trace=False))
        tl = error_timeline([p], since=None, until=None, now=NOW)
        assert tl.onset == ONSET, name
        assert tl.recovered_at == RECOVERY, name
        by = {b.at: b for b in tl.buckets}
        assert by[ONSET + timedelta(minutes=5)].total == 15 + 2 + 30, name


def test_progress_callback_and_files_without_timestamps(tmp_path: Path) -> None:
    p = write(tmp_path / "plain.log", ["hello", "ERROR broken", "Traceback (most recent call last):", "bye"])
    seen: list[tuple[int, int]] = []
    tl = error_timeline([p], since=None, until=None, now=NOW, progress=lambda d, t: seen.append((d, t)))
    assert tl.buckets == [] and tl.onset is None
    assert tl.error_lines == 2 and tl.lines_without_time >= 2
    assert seen and seen[-1][0] == seen[-1][1] == p.stat().st_size


def test_ten_megabyte_line_is_bounded(tmp_path: Path) -> None:
    p = tmp_path / "big.log"
    with open(p, "wb") as f:
        f.write(b"2026-11-21T14:00:00Z INFO start\n")
        f.write(b"2026-11-21T14:00:01Z ERROR " + b"x" * (10 << 20) + b"\n")
        f.write(b"2026-11-21T14:00:02Z INFO end\n")
    tl = error_timeline([p], since=None, until=None, now=NOW)
    assert tl.error_lines == 1
    assert sum(b.total for b in tl.buckets) == 3


def test_gzip_concatenated_members(tmp_path: Path) -> None:
    a = "\n".join(incident_lines(log4j, end=T0 + timedelta(minutes=30))) + "\n"
    b = "\n".join(incident_lines(log4j, start=T0 + timedelta(minutes=30))) + "\n"
    p = tmp_path / "app.log.1.gz"
    p.write_bytes(gzip.compress(a.encode()) + gzip.compress(b.encode()))
    tl = error_timeline([p], since=None, until=None, now=NOW)
    assert tl.onset == ONSET
    assert tl.start is not None and tl.start <= T0 + timedelta(seconds=1)


def test_bucket_size_grows_for_long_windows() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    tl = build({}, {}, start, start + 30 * 86400)
    assert tl.bucket_seconds >= 1800 and len(tl.buckets) <= 1500


def test_incident_filling_most_of_the_window_still_has_an_onset() -> None:
    tl = build(_minutes(T0, [1] * 20 + [40] * 80), None, T0.timestamp(), T0.timestamp() + 6000)
    assert tl.onset == T0 + timedelta(minutes=20)
    assert tl.baseline_errors_per_min == 1
    assert tl.still_elevated is True
