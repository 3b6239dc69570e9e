"""Runbook verify checks measured on real log files: generated incidents, gzip and rotation,
stack traces, read roots, logs that stop."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from tests.verify_checks_fixtures import ACCESS_5XX, TRACEBACK, at, build, check, rolled_back

from incident import verify_checks as vc
from incident.tools.base import Roots, ToolContext
from incident.tools.logscan import find_rg

ENGINES = [pytest.param(True, id="rg", marks=pytest.mark.skipif(find_rg() is None, reason="no ripgrep")), pytest.param(False, id="python")]
CHECKS = [check(TRACEBACK, 1, 10, "tracebacks stop"), check(ACCESS_5XX, 2, 15, "5xx back to baseline")]


def _ctx(root: Path, logs: list[str]) -> ToolContext:
    return ToolContext(roots=Roots.of(root), log_paths=logs)


@pytest.mark.parametrize("use_rg", ENGINES)
def test_a_rollback_that_worked_passes_both_checks(tmp_path: Path, use_rg: bool) -> None:
    p = build(tmp_path)
    results = vc.evaluate_checks(CHECKS, _ctx(tmp_path, p.logs), mitigation_at=at(6), now=p.now, use_rg=use_rg)
    tb, http = results
    assert (tb.status, http.status) == ("pass", "pass")
    assert tb.deadline == at(16) and tb.deadline_reached
    assert tb.series_start == at(6) and tb.series[0] > 1 and tb.series[1:] == [0] * 23  # errors stop at +7
    assert tb.under_since == at(7) and tb.last_minute_at == at(29) and tb.last_minute_count == 0
    assert tb.before_per_min is not None and tb.before_per_min > 5
    assert http.worst_minute_count is not None and http.worst_minute_count <= 2  # the baseline's stray 502s
    assert vc.combine_status("unknown", results) == "working"


def test_rg_and_python_count_the_same(tmp_path: Path) -> None:
    if find_rg() is None:
        pytest.skip("no ripgrep")
    p = build(tmp_path, rolled_back(recovered_minutes=None))
    both = [vc.evaluate_checks(CHECKS, _ctx(tmp_path, p.logs), mitigation_at=at(6), now=p.now, use_rg=u) for u in (True, False)]
    assert [r.model_dump() for r in both[0]] == [r.model_dump() for r in both[1]]
    assert [r.status for r in both[0]] == ["fail", "fail"]  # the rollback did not stop the errors


@pytest.mark.parametrize("use_rg", ENGINES)
def test_pending_while_the_errors_go_on_before_the_deadline(tmp_path: Path, use_rg: bool) -> None:
    p = build(tmp_path, rolled_back(now_minutes=12, recovered_minutes=None))
    tb, _ = vc.evaluate_checks(CHECKS, _ctx(tmp_path, p.logs), mitigation_at=at(6), now=p.now, use_rg=use_rg)
    assert tb.status == "pending" and not tb.deadline_reached
    assert tb.last_minute_at == at(11) and (tb.last_minute_count or 0) > 1
    assert vc.combine_status("working", [tb]) == "partially working"


def test_a_stack_trace_counts_once_however_many_of_its_lines_match(tmp_path: Path) -> None:
    p = build(tmp_path, rolled_back(access_log=False))
    one = check(TRACEBACK, 1, 10)
    many = check(r"Traceback|File \"/app/|AttributeError|unhandled exception", 1, 10)
    for use_rg in (True, False):
        a, b = vc.evaluate_checks([one, many], _ctx(tmp_path, p.logs), mitigation_at=at(3), now=p.now, use_rg=use_rg)
        assert a.series == b.series and a.matches_after > 0


def test_gzip_and_rotated_files_are_read_like_plain_ones(tmp_path: Path) -> None:
    plain = build(tmp_path / "plain", rolled_back(access_log=False))
    rotated = build(tmp_path / "rotated", rolled_back(access_log=False, rotated_gz=True))
    assert any(n.endswith("app.log*") for n in rotated.logs)
    a = vc.evaluate_checks(CHECKS[:1], _ctx(tmp_path, plain.logs), mitigation_at=at(0.5), now=plain.now)
    b = vc.evaluate_checks(CHECKS[:1], _ctx(tmp_path, rotated.logs), mitigation_at=at(0.5), now=rotated.now)
    assert a[0].model_dump() == b[0].model_dump() and a[0].status == "pass"
    # a whole log gzipped (the bad-deploy scenario's shape)
    gz = tmp_path / "gz" / "app.log.gz"
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress(Path(plain.logs[0]).read_bytes()))
    c = vc.evaluate_checks(CHECKS[:1], _ctx(tmp_path, [str(gz)]), mitigation_at=at(0.5), now=plain.now)
    assert c[0].model_dump() == a[0].model_dump()


def test_logs_outside_the_read_roots_are_not_read(tmp_path: Path) -> None:
    p = build(tmp_path / "scn")
    elsewhere = tmp_path / "roots-only-here"
    elsewhere.mkdir()
    results = vc.evaluate_checks(CHECKS, _ctx(elsewhere, p.logs), mitigation_at=at(6), now=p.now)
    assert [r.status for r in results] == ["unknown", "unknown"]
    assert "no readable log files" in results[0].note and "outside the configured read roots" in results[0].note


def test_a_link_out_of_the_roots_is_refused(tmp_path: Path) -> None:
    p = build(tmp_path / "scn")
    inside = tmp_path / "inside"
    inside.mkdir()
    (inside / "app.log").symlink_to(p.logs[0])
    results = vc.evaluate_checks(CHECKS[:1], _ctx(inside, [str(inside / "app.log")]), mitigation_at=at(6), now=p.now)
    assert results[0].status == "unknown" and "outside the configured read roots" in results[0].note


def test_a_log_that_stopped_is_not_a_quiet_one(tmp_path: Path) -> None:
    p = build(tmp_path, rolled_back(now_minutes=9, recovered_minutes=None, access_log=False))
    # The operator looks 20 minutes later; the log was last written at +9.
    results = vc.evaluate_checks(CHECKS[:1], _ctx(tmp_path, p.logs), mitigation_at=at(6), now=at(29))
    r = results[0]
    assert r.last_minute_at == at(8) and r.minutes_after == 3
    assert r.status == "pending"  # still over the limit when the log ends; nothing after is known


def test_no_mitigation_time_and_no_logs_are_unknown_with_the_reason(tmp_path: Path) -> None:
    p = build(tmp_path)
    none = vc.evaluate_checks(CHECKS, _ctx(tmp_path, p.logs), mitigation_at=None, now=p.now)
    assert {r.status for r in none} == {"unknown"} and "incident mark ID mitigated" in none[0].note
    nologs = vc.evaluate_checks(CHECKS, _ctx(tmp_path, []), mitigation_at=at(6), now=p.now)
    assert {r.status for r in nologs} == {"unknown"} and "no logs were given" in nologs[0].note
    assert vc.evaluate_checks([], _ctx(tmp_path, p.logs), mitigation_at=at(6), now=p.now) == []


def test_a_file_without_timestamps_is_named(tmp_path: Path) -> None:
    log = tmp_path / "plain.txt"
    log.write_text("Traceback (most recent call last)\n" * 50, encoding="utf-8")
    r = vc.evaluate_checks(CHECKS[:1], _ctx(tmp_path, [str(log)]), mitigation_at=at(6), now=at(30))[0]
    assert r.status == "unknown" and "no timestamps found" in r.note


def test_crlf_and_json_lines(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    rows = [f'{{"ts":"2026-11-21T14:{m:02d}:{s:02d}Z","level":"error","msg":"upstream 503"}}' for m in range(30, 50) for s in (5, 35)
            if m < 40]
    rows += [f'{{"ts":"2026-11-21T14:{m:02d}:05Z","level":"info","msg":"ok"}}' for m in range(40, 50)]
    log.write_bytes(("\r\n".join(rows) + "\r\n").encode())
    for use_rg in (True, False):
        r = vc.evaluate_checks([check(r"upstream 503\"\}$", 0, 5)], _ctx(tmp_path, [str(log)]), mitigation_at=at(8), now=at(18),
                               use_rg=use_rg)[0]
        assert r.status == "pass" and r.before_per_min == 2.0 and r.under_since == at(8), use_rg
