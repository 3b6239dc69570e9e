from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from incident.cli import app
from incident.models import Deploy
from incident.render.logs import error_chart
from incident.tools.timeline import error_timeline
from logs_fixtures import NOW, ONSET, RECOVERY, incident_lines, log4j, write

runner = CliRunner()
NOW_FLAG = ["--now", "2026-11-21T15:00:00Z"]


def _log(tmp_path: Path) -> Path:
    return write(tmp_path / "svc" / "app.log", incident_lines(log4j))


def test_search_json(tmp_path: Path) -> None:
    p = _log(tmp_path)
    r = runner.invoke(app, ["logs", "search", "payment failed", str(p), "--max", "3", "-C", "1", "--json", *NOW_FLAG])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["schema_version"] == 1 and doc["truncated"] is True and len(doc["hits"]) == 3
    assert doc["hits"][0]["at"] == "2026-11-21T14:10:00Z" and doc["hits"][0]["after"]


def test_search_stdin_and_literal(tmp_path: Path) -> None:
    data = "\n".join(incident_lines(log4j))
    r = runner.invoke(app, ["logs", "search", "Pay.charge(", "-", "--literal", "--max", "1", "--json"], input=data)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["hits"][0]["path"] == "<stdin>"


def test_timeline_json_and_chart(tmp_path: Path) -> None:
    p = _log(tmp_path)
    r = runner.invoke(app, ["logs", "timeline", str(p), "--since", "2h", "--json", *NOW_FLAG])
    assert r.exit_code == 0, r.output
    tl = json.loads(r.stdout)["timeline"]
    assert tl["onset"] == "2026-11-21T14:10:00Z" and tl["recovered_at"] == "2026-11-21T14:40:00Z"
    assert tl["still_elevated"] is False and len(tl["buckets"]) == 120 and tl["end"] == "2026-11-21T15:00:00Z"
    r = runner.invoke(app, ["logs", "timeline", str(p), *NOW_FLAG])
    assert r.exit_code == 0 and "↑ onset 14:10Z" in r.stdout and "still elevated" in r.stdout


def test_timeline_window_is_pinned_by_now_however_long_the_run_takes(tmp_path: Path, monkeypatch) -> None:
    # The --now clock moves on with real time; a slow run once crossed a minute and got 121
    # buckets. The window is the pinned instant's, whatever the monotonic clock says.
    import time

    ticks = iter(range(0, 10**6, 90))
    monkeypatch.setattr(time, "monotonic", lambda: float(next(ticks)))
    r = runner.invoke(app, ["logs", "timeline", str(_log(tmp_path)), "--since", "2h", "--json", *NOW_FLAG])
    assert r.exit_code == 0, r.output
    tl = json.loads(r.stdout)["timeline"]
    assert tl["start"] == "2026-11-21T13:00:00Z" and tl["end"] == "2026-11-21T15:00:00Z" and len(tl["buckets"]) == 120


def test_patterns_json_contract(tmp_path: Path) -> None:
    p = _log(tmp_path)
    r = runner.invoke(app, ["logs", "patterns", str(p), "--since", "2h", "--new-since", "14:10", "--json", *NOW_FLAG])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["schema_version"] == 1
    pats = doc["patterns"]
    assert [x["count"] for x in pats] == sorted((x["count"] for x in pats), reverse=True)
    assert {"template", "count", "first_seen", "last_seen", "new"} <= set(pats[0])
    assert pats[0]["new"] is True and "payment failed" in pats[0]["template"]
    r = runner.invoke(app, ["logs", "patterns", str(p), "--level", "loud"])
    assert r.exit_code == 2


def test_missing_and_refused_paths_exit_codes(tmp_path: Path) -> None:
    r = runner.invoke(app, ["logs", "search", "x", str(tmp_path / "nope.log"), "--json"])
    assert r.exit_code == 3 and json.loads(r.stdout)["error"]["code"] == "not_found"
    r = runner.invoke(app, ["logs", "search", "(", str(_log(tmp_path))])
    assert r.exit_code == 2 and "invalid regular expression" in r.output


def test_terminal_escapes_in_logs_never_reach_the_terminal(tmp_path: Path) -> None:
    p = write(tmp_path / "evil.log", ["2026-11-21T14:10:00Z ERROR \x1b[2J\x1b]0;pwned\x07 gone"])
    r = runner.invoke(app, ["logs", "search", "gone", str(p)])
    assert r.exit_code == 0 and "\x1b" not in r.stdout and "\\x1b" in r.stdout


def test_error_chart_marks_onset_and_deploys(tmp_path: Path) -> None:
    tl = error_timeline([_log(tmp_path)], since=NOW - timedelta(hours=2), until=NOW, now=NOW)
    deploy = Deploy(id="42", version="v1.4.2", service="checkout", started_at=ONSET - timedelta(minutes=5), status="succeeded")
    chart = error_chart(tl, [deploy], width=60)
    lines = chart.splitlines()
    spark = lines[1]
    assert len(spark) == 60 and set(spark) <= set(" ▁▂▃▄▅▆▇█")
    onset_col = lines[2].index("↑")
    assert spark[onset_col] == "█" and spark[onset_col - 1] != "█"
    assert lines[3].index("▲") == 65 // 2  # 2 minutes per column; the deploy is 65 min into the window
    assert "▲1 14:05Z deploy v1.4.2 checkout" in chart
    assert RECOVERY.strftime("%H:%M") not in lines[0]
    assert error_chart(tl.model_copy(update={"buckets": []}), []) == "no timestamped log records in the window"


def test_timeline_ends_at_now_by_default_so_lines_stamped_later_do_not_count(tmp_path: Path) -> None:
    # The log runs an hour past --now, and its errors start after it.
    late = incident_lines(log4j, end=NOW + timedelta(hours=1), incident=(NOW + timedelta(minutes=10), NOW + timedelta(minutes=50)))
    p = write(tmp_path / "svc" / "app.log", late)
    r = runner.invoke(app, ["logs", "timeline", str(p), "--since", "2h", "--json", *NOW_FLAG])
    assert r.exit_code == 0, r.output
    tl = json.loads(r.stdout)["timeline"]
    assert tl["end"] == "2026-11-21T15:00:00Z" and len(tl["buckets"]) == 120
    assert tl["onset"] is None and tl["buckets"][-1]["at"] == "2026-11-21T14:59:00Z"
    r = runner.invoke(app, ["logs", "timeline", str(p), "--since", "2h", "--until", "2026-11-21T16:00:00Z", "--json", *NOW_FLAG])
    assert json.loads(r.stdout)["timeline"]["onset"] == "2026-11-21T15:10:00Z"


def test_error_timeline_tool_ends_at_now_by_default(tmp_path: Path) -> None:
    from incident.tools.base import Roots, Toolbox, ToolContext
    from incident.tools.logtools import TOOLS

    late = incident_lines(log4j, end=NOW + timedelta(hours=1), incident=(NOW + timedelta(minutes=10), NOW + timedelta(minutes=50)))
    p = write(tmp_path / "svc" / "app.log", late)
    ctx = ToolContext(roots=Roots.of(tmp_path), log_paths=[str(p)], service="checkout", clock=lambda: NOW)
    tl = Toolbox(ctx, TOOLS).run("error_timeline", {"since": "2h"}).data
    assert tl.end == NOW and tl.onset is None
