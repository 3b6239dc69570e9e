"""Onset, baseline and recovery: only minutes the logs cover count; small error shares are found."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

from incident.tools.timeline import build, error_timeline
from logs_fixtures import NOW, ONSET, RECOVERY, T0, incident_lines, log4j, write

SIX_HOURS = timedelta(hours=6)


def _series(start: datetime, values: list[int]) -> dict[int, int]:
    return {int(start.timestamp()) + 60 * i: v for i, v in enumerate(values) if v}


def _traffic(minutes: int, per_min: int, share: list[float], seed: int) -> tuple[list[int], list[int]]:
    """Per-minute (errors, totals): `per_min` requests, each failing with that minute's share."""
    rnd = random.Random(seed)
    errs = [sum(1 for _ in range(per_min) if rnd.random() < share[i]) for i in range(minutes)]
    return errs, [per_min] * minutes


# ---------------------------------------------------------------- coverage


def _late_log(tmp_path: Path) -> Path:
    # Busy logs that begin 70 minutes before NOW, with background errors (one every 30 s) and
    # a rise at ONSET; the window reaches 6 hours back, so most of it has no lines at all.
    return write(tmp_path / "app.log", incident_lines(log4j, start=NOW - timedelta(minutes=70), trace=True))


def test_minutes_before_the_logs_begin_are_no_baseline(tmp_path: Path) -> None:
    p = _late_log(tmp_path)
    for totals in (True, False):
        tl = error_timeline([p], since=NOW - SIX_HOURS, until=NOW, now=NOW, totals=totals)
        assert tl.onset == ONSET, totals
        assert tl.baseline_errors_per_min == 2, totals
        assert tl.recovered_at == RECOVERY and tl.still_elevated is False, totals
        # The chart still shows the whole window.
        assert tl.buckets[0].at == NOW - SIX_HOURS and len(tl.buckets) == 360


def test_python_scan_and_rg_agree_on_a_late_log(tmp_path: Path, monkeypatch) -> None:
    p = _late_log(tmp_path)
    ref = error_timeline([p], since=NOW - SIX_HOURS, until=NOW, now=NOW)
    monkeypatch.setattr("incident.tools.logscan.find_rg", lambda: None)
    py = error_timeline([p], since=NOW - SIX_HOURS, until=NOW, now=NOW)
    assert [(b.errors, b.total) for b in py.buckets] == [(b.errors, b.total) for b in ref.buckets]
    assert py.onset == ref.onset == ONSET


def test_build_ignores_uncovered_minutes() -> None:
    start = T0 - SIX_HOURS
    logs_from = 300  # minutes into the window
    errs = [0] * logs_from + [2] * 40 + [30] * 20
    tots = [0] * logs_from + [60] * 60
    tl = build(_series(start, errs), _series(start, tots), start.timestamp(), start.timestamp() + 360 * 60)
    assert tl.onset == start + timedelta(minutes=logs_from + 40)
    assert tl.baseline_errors_per_min == 2
    # Errors only: the files' first and last record say what is covered.
    first = start.timestamp() + logs_from * 60
    tl = build(_series(start, errs), None, start.timestamp(), start.timestamp() + 360 * 60, spans=[(first, first + 3599)])
    assert tl.onset == start + timedelta(minutes=logs_from + 40)


def test_a_gap_in_logging_is_not_a_recovery() -> None:
    # The rise starts at minute 60; the service then stops logging for the last 15 minutes.
    errs = [2] * 60 + [30] * 25 + [0] * 15
    tots = [60] * 85 + [0] * 15
    tl = build(_series(T0, errs), _series(T0, tots), T0.timestamp(), T0.timestamp() + 100 * 60)
    assert tl.onset == T0 + timedelta(minutes=60)
    assert tl.recovered_at is None and tl.still_elevated is True
    # A gap in the middle neither ends the incident nor opens a new one.
    errs = [2] * 60 + [30] * 10 + [0] * 10 + [30] * 10 + [2] * 20
    tots = [60] * 70 + [0] * 10 + [60] * 30
    tl = build(_series(T0, errs), _series(T0, tots), T0.timestamp(), T0.timestamp() + 110 * 60)
    assert tl.onset == T0 + timedelta(minutes=60)
    assert tl.recovered_at == T0 + timedelta(minutes=90)


# ---------------------------------------------------------------- error ratio


def test_a_two_percent_share_at_sixty_requests_a_minute_is_an_onset() -> None:
    for seed in range(5):
        share = [0.002] * 120 + [0.02] * 40
        errs, tots = _traffic(160, 60, share, seed)
        tl = build(_series(T0, errs), _series(T0, tots), T0.timestamp(), T0.timestamp() + 160 * 60)
        assert tl.onset is not None, seed
        assert abs(tl.onset - (T0 + timedelta(minutes=120))) <= timedelta(minutes=3), (seed, tl.onset)
        assert tl.still_elevated is True and tl.recovered_at is None, seed
        assert tl.baseline_error_ratio is not None and tl.baseline_error_ratio < 0.006, seed


def test_a_small_share_that_ends_has_recovered() -> None:
    for seed in range(5):
        share = [0.0] * 90 + [0.03] * 30 + [0.0] * 30
        errs, tots = _traffic(150, 120, share, seed)
        tl = build(_series(T0, errs), _series(T0, tots), T0.timestamp(), T0.timestamp() + 150 * 60)
        assert tl.onset is not None and abs(tl.onset - (T0 + timedelta(minutes=90))) <= timedelta(minutes=3), seed
        assert tl.recovered_at is not None, seed
        assert abs(tl.recovered_at - (T0 + timedelta(minutes=120))) <= timedelta(minutes=3), (seed, tl.recovered_at)
        assert tl.still_elevated is False, seed


def test_steady_background_share_and_single_spikes_are_no_onset() -> None:
    for seed in range(5):
        share = [0.015] * 240
        share[100] = 0.3  # one bad minute
        share[200] = 0.5
        errs, tots = _traffic(240, 60, share, seed)
        tl = build(_series(T0, errs), _series(T0, tots), T0.timestamp(), T0.timestamp() + 240 * 60)
        assert tl.onset is None, (seed, tl.onset)
        assert tl.still_elevated is False


def test_more_traffic_with_the_same_share_is_no_onset() -> None:
    # Morning ramp: requests grow tenfold, 1% of them fail throughout.
    per_min = [100 + 8 * i for i in range(120)]
    errs = [n // 100 for n in per_min]
    tl = build(_series(T0, errs), _series(T0, per_min), T0.timestamp(), T0.timestamp() + 120 * 60)
    assert tl.onset is None


def test_share_rule_keeps_background_from_moving_the_onset() -> None:
    # Background 1% share, then 6% from minute 100: the onset is the rise, not a noisy minute before.
    for seed in range(5):
        share = [0.01] * 100 + [0.06] * 40
        errs, tots = _traffic(140, 200, share, seed)
        tl = build(_series(T0, errs), _series(T0, tots), T0.timestamp(), T0.timestamp() + 140 * 60)
        assert tl.onset is not None and abs(tl.onset - (T0 + timedelta(minutes=100))) <= timedelta(minutes=2), (seed, tl.onset)


def test_gather_finds_a_small_share_in_logs_that_begin_mid_window(tmp_path: Path) -> None:
    from dataclasses import replace

    from incident.evidence import gather
    from incident.scenario import FailureSpec, ScenarioSpec, build_scenario
    from offline_fixtures import context

    base = ScenarioSpec(requests_per_minute=60, history_minutes=90, now_minutes=20, baseline_error_ratio=0.002,
                        failure=FailureSpec(error_ratio=0.02, endpoint="POST /api/checkout"))
    for seed in (1, 2, 3):
        spec = replace(base, seed=seed)
        paths = build_scenario(tmp_path / str(seed), spec)
        ev = gather(context(paths), service=paths.service, started=None, now=paths.now)
        assert ev.timeline is not None and ev.timeline.onset is not None, seed
        assert abs(ev.timeline.onset - spec.onset) <= timedelta(minutes=3), (seed, ev.timeline.onset)
        assert ev.timeline.still_elevated is True, seed
        # The 6 h window starts long before the logs; the baseline is the logs' own.
        assert ev.window_start < spec.onset - timedelta(minutes=spec.history_minutes)
        assert ev.timeline.baseline_error_ratio is not None and ev.timeline.baseline_error_ratio < 0.01


def test_seconds_of_a_last_minute_do_not_decide_the_end() -> None:
    # The window ends one second into a minute that already holds two background errors:
    # 120 errors/min by arithmetic, noise in fact.
    errs = [2] * 60 + [30] * 20 + [2] * 20 + [2]
    tots = [60] * 101
    tl = build(_series(T0, errs), _series(T0, tots), T0.timestamp(), T0.timestamp() + 100 * 60 + 1)
    assert tl.onset == T0 + timedelta(minutes=60)
    assert tl.recovered_at == T0 + timedelta(minutes=80) and tl.still_elevated is False
