"""More log styles real systems write (web servers and proxies, load balancers and CDNs, container
runtimes, journald and syslog, application frameworks, databases, cloud log exports): timestamps
parsed, levels and statuses read, stack traces kept whole, the onset found — through the Python
APIs and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incident.cli import app
from incident.tools.logs import error_records, search
from incident.tools.patterns import mine_patterns
from incident.tools.timeline import error_timeline
from logs_rw2_fixtures import END, NOW, ONSET, STYLES, T0, write_style

runner = CliRunner()


@pytest.mark.parametrize("name", sorted(STYLES))
def test_every_style_gives_its_records_errors_and_onset(tmp_path: Path, name: str) -> None:
    path, records, errors = write_style(tmp_path, name)
    tl = error_timeline([path], since=NOW - timedelta(hours=3), until=NOW, now=NOW)
    assert tl.lines_without_time == 0, name
    assert tl.total_lines == records, name
    assert tl.error_lines == errors, name
    assert tl.onset is not None and abs((tl.onset - ONSET).total_seconds()) <= 60, (name, tl.onset)
    assert tl.still_elevated, name


@pytest.mark.parametrize("name", sorted(STYLES))
def test_every_style_without_totals_and_in_patterns_counts_the_same_errors(tmp_path: Path, name: str) -> None:
    path, _, errors = write_style(tmp_path, name)
    tl = error_timeline([path], since=T0, until=END, now=NOW, totals=False)
    assert tl.error_lines == errors
    pats = mine_patterns([path], since=T0, until=END, now=NOW, level="error", new_since=ONSET)
    assert sum(p.count for p in pats) == errors
    assert all(p.level == "error" for p in pats)
    assert all(p.first_seen is not None and T0 <= p.first_seen < END for p in pats)


# ---------------------------------------------------------------- the CLI on a few families

CLI_STYLES = ["haproxy.log", "cri_java.log", "journal.json", "cloudwatch.json", "logback_time_only.log", "zap_crash.log",
              "rfc5424_sd.log", "envoy_json.log"]
NOW_FLAG = ["--now", NOW.isoformat()]


@pytest.mark.parametrize("name", CLI_STYLES)
def test_cli_timeline_and_patterns_json_on_real_world_styles(tmp_path: Path, name: str) -> None:
    path, _, errors = write_style(tmp_path, name)
    r = runner.invoke(app, ["logs", "timeline", str(path), "--since", "3h", "--json", *NOW_FLAG])
    assert r.exit_code == 0, r.output
    tl = json.loads(r.stdout)["timeline"]
    assert tl["onset"] == "2026-11-21T15:00:00Z" and tl["error_lines"] == errors and tl["lines_without_time"] == 0
    r = runner.invoke(app, ["logs", "patterns", str(path), "--since", "3h", "--new-since", "15:00", "--json", *NOW_FLAG])
    assert r.exit_code == 0, r.output
    pats = json.loads(r.stdout)["patterns"]
    assert sum(p["count"] for p in pats) == errors
    assert all(p["first_seen"] is not None for p in pats)


@pytest.mark.parametrize(("name", "needle"), [
    ("haproxy.log", "NOSRV"), ("cri_java.log", "Caused by"), ("journal.json", "gateway timeout"),
    ("cloudwatch.json", "Invoke Error"), ("tomcat.log", "SEVERE"), ("django_runserver.log", "POST /api/orders"),
    ("gunicorn.log", "ConnectionResetError"), ("docker_java.log", "SocketTimeoutException"),
])
def test_cli_search_times_every_hit_and_keeps_to_the_window(tmp_path: Path, name: str, needle: str) -> None:
    path, _, _ = write_style(tmp_path, name)
    r = runner.invoke(app, ["logs", "search", needle, str(path), "--literal", "--since", "60m", "--max", "1000", "--json", *NOW_FLAG])
    assert r.exit_code == 0, r.output
    hits = json.loads(r.stdout)["hits"]
    assert hits, name
    times = [datetime.fromisoformat(h["at"]) for h in hits]
    # The window is the last hour before NOW; the fixture's events end at 15:30 and start failing at 15:00.
    assert all(NOW - timedelta(hours=1) <= t < END + timedelta(seconds=1) for t in times), name
    assert min(times) >= ONSET - timedelta(seconds=1) or name == "tomcat.log"


# ---------------------------------------------------------------- records kept whole


@pytest.mark.parametrize("name", ["cri_java.log", "docker_java.log", "journal_java.log"])
def test_a_trace_stamped_line_by_line_stays_one_record(tmp_path: Path, name: str) -> None:
    path, _, errors = write_style(tmp_path, name)
    recs = error_records([path], since=T0, until=END, now=NOW, limit=10_000)
    assert len(recs) == errors
    assert all("Caused by: java.net.SocketTimeoutException" in r.text and "... 12 more" in r.text for r in recs)


def test_a_crash_after_an_info_line_is_its_own_error_record_timed_by_that_line(tmp_path: Path) -> None:
    path, _, errors = write_style(tmp_path, "zap_crash.log")
    recs = error_records([path], since=T0, until=END, now=NOW, limit=10_000)
    assert len(recs) == errors
    crashes = [r for r in recs if r.text.startswith(("panic: ", "fatal error: "))]
    assert len(crashes) > 100
    assert all(r.at is not None and "goroutine 42 [running]:" in r.text for r in crashes)
    lines = path.read_text().splitlines()
    first = next(r for r in crashes)
    stamp_line = lines[first.line_no - 2]  # the INFO line the runtime wrote after
    assert stamp_line.startswith(first.at.strftime("%Y-%m-%dT%H:%M:%S"))


def test_a_crash_after_an_error_line_is_counted_alike_by_timeline_and_patterns(tmp_path: Path) -> None:
    lines = []
    for m in range(30):
        t = T0 + timedelta(minutes=m)
        lines.append(t.strftime("%Y-%m-%dT%H:%M:%SZ") + " INFO served")
        if m % 3 == 0:
            lines += [t.strftime("%Y-%m-%dT%H:%M:%SZ") + " ERROR boom", "panic: boom", "", "goroutine 1 [running]:", "main.main()"]
    path = tmp_path / "app.log"
    path.write_text("\n".join(lines) + "\n")
    tl = error_timeline([path], since=T0, until=END, now=NOW)
    pats = mine_patterns([path], since=T0, until=END, now=NOW)
    assert tl.error_lines == sum(p.count for p in pats) == 20
    assert {p.template for p in pats} == {"boom", "panic: boom"}


# ---------------------------------------------------------------- JSON documents


def test_an_elasticsearch_search_result_is_read_as_its_hits(tmp_path: Path) -> None:
    hits = [{"_index": "logs", "_id": str(i), "_source": {"@timestamp": f"2026-11-21T14:{i:02d}:00Z", "log.level": "error" if i % 2 else "info",
                                                          "message": f"order {i} failed" if i % 2 else "ok"}} for i in range(20)]
    path = tmp_path / "search.json"
    path.write_text(json.dumps({"took": 3, "hits": {"total": {"value": 20}, "hits": hits}}, indent=2))
    tl = error_timeline([path], since=T0, until=END, now=NOW)
    assert (tl.total_lines, tl.error_lines) == (20, 10)
    pats = mine_patterns([path], since=T0, until=END, now=NOW)
    assert [(p.template, p.count) for p in pats] == [("order <*> failed", 10)]
    res = search([path], "order 7 failed", now=NOW)
    assert [h.at for h in res.hits] == [datetime(2026, 11, 21, 14, 7, tzinfo=UTC)]


def test_a_gcloud_array_newest_first_is_read_oldest_first(tmp_path: Path) -> None:
    path, _, errors = write_style(tmp_path, "gcloud.json", minutes=5)
    res = search([path], "GET /errors", literal=True, now=NOW, max_hits=10_000)
    times = [h.at for h in res.hits]
    assert times == sorted(times) and len(times) > 50


@pytest.mark.parametrize("text", ['[{"a": 1},', '{\n  "events": [\n', "[\n  1,\n  2\n]\n", '{\n"x": "2026-11-21T14:00:00Z ERROR boom"\n}\n'])
def test_broken_or_odd_json_documents_are_read_as_lines_without_crashing(tmp_path: Path, text: str) -> None:
    path = tmp_path / "odd.json"
    path.write_text(text)
    r = runner.invoke(app, ["logs", "timeline", str(path), "--since", "3h", "--json", *NOW_FLAG])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["logs", "patterns", str(path), "--level", "any", "--json", *NOW_FLAG])
    assert r.exit_code == 0, r.output


# ---------------------------------------------------------------- a file the first lines did not describe


def test_a_line_prefix_the_first_lines_did_not_show_still_opens_records(tmp_path: Path) -> None:
    """ALB writes `http`, `https`, `h2`, `ws` ... as the first field: a file whose first 500 lines are
    all https still has its h2 lines read."""
    lines = []
    for k in range(1200):
        t = T0 + timedelta(seconds=3 * k)
        kind, code = ("h2", 502) if k >= 600 and k % 2 else ("https", 200)
        lines.append(f"{kind} {t.strftime('%Y-%m-%dT%H:%M:%S.%f')}Z app/lb/1 1.2.3.4:1 10.0.0.1:80 0.001 0.002 0.000 {code} {code} 34 366 "
                     '"GET https://x:443/api HTTP/1.1" "curl" - -')
        if k % 7 == 0:
            lines.append("  continuation text 2026-11-21 14:00:00 that is no record")
    path = tmp_path / "alb.log"
    path.write_text("\n".join(lines) + "\n")
    tl = error_timeline([path], since=T0, until=END, now=NOW)
    assert (tl.total_lines, tl.error_lines) == (1200, 300)
    assert tl.onset == T0 + timedelta(minutes=30)


def test_a_crash_in_a_fixed_layout_log_counts_with_rg_and_without(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from incident.tools import logscan, minutes
    from incident.tools.timestamps import detect

    lines = []
    for m in range(60):
        for k in range(10):
            t = T0 + timedelta(minutes=m, seconds=6 * k)
            lines.append(t.strftime("%Y-%m-%d %H:%M:%S,%f")[:-3] + (" ERROR [main] c.e.App - failed" if m >= 40 and k % 2 else " INFO  [main] c.e.App - ok"))
        if m % 10 == 5:
            lines += ['Exception in thread "worker-3" java.lang.OutOfMemoryError: Java heap space', "\tat c.e.App.run(App.java:1)"]
    raw = [x.encode() for x in lines]
    assert minutes.detect_layout(raw[:400], detect(raw[:400], NOW)) is not None  # the fast path really runs
    path = tmp_path / "app.log"
    path.write_text("\n".join(lines) + "\n")
    counted = []
    for rg in (True, False):
        if not rg:
            monkeypatch.setattr(logscan, "find_rg", lambda: None)
        for totals in (True, False):
            tl = error_timeline([path], since=T0, until=T0 + timedelta(hours=1), now=NOW, totals=totals)
            counted.append((tl.error_lines, tl.onset))
    assert counted == [(100 + 6, T0 + timedelta(minutes=40))] * 4


# ---------------------------------------------------------------- hostile bytes


def _messy_lines() -> list[bytes]:
    out: list[bytes] = []
    for m in range(60):
        t = T0 + timedelta(minutes=m)
        stamp = t.strftime("%Y-%m-%d %H:%M:%S,000").encode()
        err = m >= 40 and m % 2 == 0
        if m == 10:
            out.append(stamp + b" INFO  [main] payload " + b"x" * (1 << 20))  # a 1 MB line
        elif m == 41:
            out.append(stamp + b" ERROR [main] dump " + b"\x1b[31m" + b"y" * (1 << 20))  # a 1 MB error line
            continue
        elif m == 20:
            out.append(stamp + b" INFO  [main] caf\xe9 \xff\xfe invalid utf-8 and a NUL \x00 here")
        out.append(stamp + (b" ERROR [main] \x1b[31mpayment failed\x1b[0m" if err else b" INFO  [main] ok"))
    return out


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_long_lines_nuls_invalid_utf8_ansi_and_crlf_through_the_cli(tmp_path: Path, newline: bytes) -> None:
    path = tmp_path / "messy.log"
    path.write_bytes(newline.join(_messy_lines()) + newline)
    r = runner.invoke(app, ["logs", "timeline", str(path), "--since", "3h", "--json", *NOW_FLAG])
    assert r.exit_code == 0, r.output
    tl = json.loads(r.stdout)["timeline"]
    assert tl["error_lines"] == 11 and tl["total_lines"] == 62 and tl["onset"] == "2026-11-21T14:40:00Z"
    r = runner.invoke(app, ["logs", "patterns", str(path), "--since", "3h", "--json", *NOW_FLAG])
    assert r.exit_code == 0, r.output
    pats = json.loads(r.stdout)["patterns"]
    assert sum(p["count"] for p in pats) == 11 and all(len(p["template"]) < 20000 for p in pats)
    r = runner.invoke(app, ["logs", "search", "payment failed", str(path), "--since", "3h", "--json", *NOW_FLAG])
    assert r.exit_code == 0, r.output
    hits = json.loads(r.stdout)["hits"]
    assert len(hits) == 10 and all(h["at"] and "\r" not in h["text"] for h in hits)


def test_a_single_megabyte_line_without_a_newline_is_read_and_bounded(tmp_path: Path) -> None:
    path = tmp_path / "blob.json"
    path.write_bytes(b'{"time":"2026-11-21T14:00:01Z","level":"error","msg":"' + b"z" * (1 << 20) + b'"}')
    for cmd in (["timeline", str(path), "--since", "3h"], ["patterns", str(path)], ["search", "zzz", str(path)]):
        r = runner.invoke(app, ["logs", *cmd, "--json", *NOW_FLAG])
        assert r.exit_code == 0, (cmd, r.output)
        assert len(r.stdout) < 200_000, cmd
    assert json.loads(runner.invoke(app, ["logs", "timeline", str(path), "--since", "3h", "--json", *NOW_FLAG]).stdout)["timeline"]["error_lines"] == 1
