"""Runbook verify checks: judging per-minute counts, the status rule, and the pattern engines."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.verify_checks_fixtures import check

from incident import verify_checks as vc
from incident import verify_patterns as vp
from incident.models import VerifyCheckResult
from incident.tools.logscan import find_rg

T0 = datetime(2026, 11, 21, 14, 30, tzinfo=UTC)  # the mitigation
RG = find_rg()
needs_rg = pytest.mark.skipif(RG is None, reason="ripgrep is not installed")


def _m(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _counts(per_minute: dict[int, int]) -> Counter[int]:
    """Counts keyed by the minute's epoch, given minutes relative to the mitigation."""
    return Counter({int(_m(k).timestamp()): v for k, v in per_minute.items()})


def _judge(per_minute: dict[int, int], now_minutes: float, *, logs_until: float | None = None, **kw: object) -> VerifyCheckResult:
    now = _m(now_minutes)
    until = now.timestamp() if logs_until is None else _m(logs_until).timestamp()
    return vc.judge(check(**kw), _counts(per_minute), mitigation_at=T0, now=now, logs_until=until)  # type: ignore[arg-type]


# ---------------------------------------------------------------- judging


def test_pass_once_every_minute_after_the_deadline_is_at_or_under_the_limit() -> None:
    r = _judge({-3: 20, -2: 20, -1: 20, 0: 9, 1: 4, 2: 1, 12: 1}, 20, limit=1, within=10)
    assert r.status == "pass" and r.deadline_reached
    assert r.deadline == _m(10)
    assert (r.last_minute_at, r.last_minute_count) == (_m(19), 0)
    assert (r.worst_minute_at, r.worst_minute_count) == (_m(12), 1)  # at the limit is under it
    assert r.under_since == _m(2)
    assert r.before_per_min == 6.0  # 60 records over the 10 minutes before
    assert (r.minutes_after, r.matches_after) == (20, 15)
    assert r.series_start == _m(0) and r.series[:4] == [9, 4, 1, 0] and len(r.series) == 20
    assert r.note == ""


def test_fail_when_a_minute_after_the_deadline_is_over_and_it_still_is() -> None:
    r = _judge({m: 5 for m in range(-5, 20)}, 20, limit=1, within=10)
    assert r.status == "fail"
    assert (r.worst_minute_count, r.last_minute_count, r.under_since) == (5, 5, None)
    assert vc.checks_status([r]) == "not working"
    assert vc.combine_status("working", [r]) == "not working"


def test_a_late_recovery_fails_the_check_and_says_how_late() -> None:
    r = _judge({-1: 9, **{m: 4 for m in range(0, 14)}}, 20, limit=1, within=10)
    assert r.status == "fail"
    assert r.under_since == _m(14) and r.last_minute_count == 0
    assert "back under the limit since 2026-11-21T14:44:00Z, 4 min after the deadline" in r.note
    assert vc.checks_status([r]) == "partially working"


def test_pending_before_the_deadline_while_still_over_the_limit() -> None:
    r = _judge({-1: 9, 0: 8, 1: 7, 2: 6}, 3, limit=1, within=10)
    assert r.status == "pending" and not r.deadline_reached
    assert (r.last_minute_at, r.last_minute_count, r.worst_minute_at) == (_m(2), 6, None)
    assert vc.combine_status("working", [r]) == "partially working"


def test_a_pass_before_the_deadline_is_a_pass_so_far() -> None:
    r = _judge({-1: 9, 0: 3, 1: 0, 2: 0}, 3, limit=1, within=10)
    assert r.status == "pass" and not r.deadline_reached and r.under_since == _m(1)
    assert "pass so far" in vc.describe(r)


def test_the_mitigations_own_minute_and_the_clocks_current_minute_are_not_judged() -> None:
    # Mitigation at 14:30:30: 14:30 mixes before and after; now 14:33:40: 14:33 is not over.
    counts = _counts({0: 50, 1: 0, 2: 0, 3: 50})
    r = vc.judge(check(), counts, mitigation_at=T0 + timedelta(seconds=30), now=_m(3) + timedelta(seconds=40),
                 logs_until=_m(3.6).timestamp())
    assert r.series_start == _m(1) and r.series == [0, 0]
    assert r.status == "pass"


def test_a_log_that_stopped_does_not_read_as_quiet_minutes() -> None:
    # The logs end at +3:20 though now is +30: minutes after that are not known to be quiet.
    r = _judge({-1: 9, 0: 8, 1: 7, 2: 6, 3: 3}, 30, logs_until=3.33, limit=1, within=10)
    assert r.status == "pending" and r.minutes_after == 3
    assert r.last_minute_at == _m(2) and r.last_minute_count == 6


def test_no_whole_minute_of_logs_after_the_mitigation() -> None:
    early = _judge({-2: 4}, 0.5)
    assert early.status == "pending" and early.minutes_after == 0
    assert "no whole minute after the mitigation" in early.note
    late = _judge({-2: 4}, 40, logs_until=-1)
    assert late.status == "unknown" and "they end at 2026-11-21T14:29:00Z" in late.note
    assert vc.proves_nothing(early) and vc.proves_nothing(late)


def test_a_limit_of_zero_passes_only_on_silence() -> None:
    assert _judge({1: 0}, 20, limit=0, within=5).status == "pass"
    assert _judge({1: 0, 7: 1}, 20, limit=0, within=5).status == "fail"


def test_a_pattern_that_never_matched_proves_nothing() -> None:
    r = _judge({}, 20)
    assert r.status == "pass" and "matched nothing before or after the mitigation" in r.note
    assert vc.proves_nothing(r)
    assert vc.checks_status([r]) is None
    assert vc.combine_status("not working", [r]) == "not working"


def test_the_series_keeps_the_last_hours_only() -> None:
    r = _judge({m: 1 for m in range(0, 600)}, 600)
    assert len(r.series) == vc.SERIES_MAX and r.series_start == _m(600 - vc.SERIES_MAX)


@pytest.mark.parametrize(
    ("rate", "checks", "expected"),
    [
        ("working", [], "working"),
        ("working", ["pass"], "working"),
        ("working", ["pass", "pending"], "partially working"),
        ("working", ["fail-now"], "not working"),
        ("working", ["fail-late"], "partially working"),
        ("unknown", ["pass"], "working"),
        ("unknown", ["unknown"], "unknown"),
        ("not working", ["pass"], "not working"),
        ("partially working", ["fail-late", "pass"], "partially working"),
    ],
)
def test_the_status_rule(rate: str, checks: list[str], expected: str) -> None:
    results = []
    for kind in checks:
        last = 5 if kind == "fail-now" else 0
        results.append(VerifyCheckResult(pattern="x", max_per_minute=1, within_minutes=10, status=kind.split("-")[0],  # type: ignore[arg-type]
                                         minutes_after=10, matches_after=3, last_minute_count=last, before_per_min=4))
    assert vc.combine_status(rate, results) == expected


# ---------------------------------------------------------------- which engine runs a pattern


@needs_rg
@pytest.mark.parametrize(
    ("pattern", "engine"),
    [
        (r"Traceback \(most recent call last\)", "rg"),
        (r'" 5\d\d ', "rg"),
        (r"(?i)timed out|timeout", "rg"),
        (r".*a.*b", "rg"),  # linear in rg whatever the pattern
        (r"(a|aa)*b", "rg"),
        (r"(?<=status=)5\d\d", "python"),  # rg has no lookbehind; Python runs it, bounded
    ],
)
def test_ripgrep_runs_what_it_can_and_python_the_rest(pattern: str, engine: str) -> None:
    assert vp.engine_for(pattern, rg=RG) == (engine, None)


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (r"(a+)+$", "exponential time"),  # refused at runbook load already
        (r"x?", "empty string"),
        (r"^$", "empty string"),
        (r".*a.*b", "need ripgrep"),
        (r"(a|aa)*b", "needs ripgrep"),
        (r"(foo)+bar", "needs ripgrep"),
        (r"a{0,8}a{0,8}.*b", "need ripgrep"),
        ("x" * 600, "longer than 500"),
        (r"(unclosed", "not a valid regex"),
    ],
)
def test_without_ripgrep_patterns_that_can_backtrack_badly_are_refused(pattern: str, problem: str) -> None:
    engine, why = vp.engine_for(pattern, rg=None)
    assert engine is None and why is not None and problem in why


@pytest.mark.parametrize("pattern", [r"Traceback \(most recent", r"status=5\d{2}", r"\d{1,3}\.\d+ ms", r"(timeout|refused).*payment", r"(?:abc){3}"])
def test_without_ripgrep_simple_patterns_run_in_python(pattern: str) -> None:
    assert vp.engine_for(pattern, rg=None) == ("python", None)


@needs_rg
def test_a_pattern_neither_engine_can_run_safely_is_refused_with_both_reasons() -> None:
    engine, why = vp.engine_for(r"(?<=a)(x|xx)*y", rg=RG)
    assert engine is None and why is not None
    assert "look-around" in why and "Python's regex engine cannot run it safely" in why


# ---------------------------------------------------------------- hostile patterns and lines


def _hostile_log(path: Path, lines: int = 400, width: int = 4000) -> Path:
    stamp = "2026-11-21T14:3{}:00.000Z ERROR "
    body = [stamp.format(i % 10) + "a" * width for i in range(lines)]
    path.write_text("\n".join(sorted(body)) + "\n", encoding="utf-8")
    return path


@needs_rg
@pytest.mark.parametrize("pattern", [r".*a.*a.*a.*b", r"(a|aa)*b", r"\w+\s*\w+\s*x", r"(?:a|a)*c"])
def test_ripgrep_matches_backtracking_traps_in_linear_time(tmp_path: Path, pattern: str) -> None:
    log = _hostile_log(tmp_path / "app.log")
    started = time.monotonic()
    scan, failed = vc.scan([log], [pattern], since=_m(-60), until=_m(60), now=_m(60))
    assert failed == [None] and sum(scan.counts[0].values()) == 0
    assert time.monotonic() - started < 10


def test_the_python_engine_gives_up_within_its_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _hostile_log(tmp_path / "app.log", lines=3000)
    monkeypatch.setattr(vp, "PY_BUDGET_SECONDS", 0.05)
    scan, failed = vc.scan([log], [r"a*x"], since=_m(-60), until=_m(60), now=_m(60), use_rg=False)
    assert failed[0] is not None and "gave up after 0.05 s" in failed[0]


def test_patterns_are_only_ever_regexes(tmp_path: Path) -> None:
    """Shell syntax, option-looking text: matched as text on the log lines, nothing else."""
    marker = tmp_path / "pwned"
    log = tmp_path / "app.log"
    log.write_text(
        "2026-11-21T14:31:00.000Z ERROR --pre=sh $(touch pwned) ; `touch pwned` --files\n"
        "2026-11-21T14:32:00.000Z INFO fine\n",
        encoding="utf-8",
    )
    patterns = ["--pre=sh", r"\$\(touch pwned\)", "; `touch pwned`", "--files"]
    for use_rg in (True, False):
        scan, failed = vc.scan([log], patterns, since=_m(-60), until=_m(60), now=_m(60), use_rg=use_rg)
        assert failed == [None] * 4
        assert [sum(c.values()) for c in scan.counts] == [1, 1, 1, 1]
    assert not marker.exists() and not (Path.cwd() / "pwned").exists()


@pytest.mark.parametrize("pattern", ["5xx\nerror", "x\x00y", "a\rb"])
def test_a_pattern_is_one_line_without_nul(pattern: str) -> None:
    for rg in (RG, None):
        engine, why = vp.engine_for(pattern, rg=rg)
        assert engine is None and why is not None and "newline or a NUL byte" in why


def test_only_the_first_checks_are_measured(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("2026-11-21T14:31:00.000Z ERROR boom\n2026-11-21T14:59:00.000Z INFO ok\n", encoding="utf-8")
    from incident.tools.base import Roots, ToolContext

    checks = [check(f"boom{i}?", 1, 5) for i in range(vc.MAX_CHECKS + 2)]
    results = vc.evaluate_checks(checks, ToolContext(roots=Roots.of(tmp_path), log_paths=[str(log)]), mitigation_at=_m(5), now=_m(30))
    assert len(results) == vc.MAX_CHECKS + 2
    assert results[0].status == "pass" and results[0].before_per_min == 0.1
    assert [r.status for r in results[-2:]] == ["unknown", "unknown"] and "first 20 checks" in results[-1].note
