from __future__ import annotations

import io
import os
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from incident.clock import frozen_clock
from incident.tools import logs, logscan
from incident.tools.base import Roots, Toolbox, ToolContext
from incident.tools.logscan import STDIN, expand_paths
from logs_fixtures import NOW, ONSET, incident_lines, log4j, write


def _no_rg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("incident.tools.logscan.find_rg", lambda: None)


def _both(monkeypatch: pytest.MonkeyPatch, paths: list[Path], pattern: str, **kw) -> logs.SearchResult:
    a = logs.search(paths, pattern, now=NOW, **kw)
    assert a.engine == "rg"
    with monkeypatch.context() as m:
        _no_rg(m)
        b = logs.search(paths, pattern, now=NOW, **kw)
    assert b.engine == "python"
    assert a.hits == b.hits and a.truncated == b.truncated
    return a


def test_search_rg_and_python_agree_with_context_and_trace_time(tmp_path: Path, monkeypatch) -> None:
    p = write(tmp_path / "app.log", incident_lines(log4j))
    r = _both(monkeypatch, [p], "SocketTimeout", context=2, max_hits=5)
    assert r.truncated and len(r.hits) == 5
    h = r.hits[0]
    assert h.text.startswith("Caused by: java.net.SocketTimeoutException")
    assert h.at == ONSET  # the trace line takes the time of the record that opened it
    assert len(h.before) == 2 and h.before[0] == "java.lang.IllegalStateException: gateway timeout"
    assert h.after == ["\t... 12 more", h.after[1]]
    lines = p.read_text().splitlines()
    assert lines[h.line_no - 1] == h.text


def test_search_window_literal_and_regex(tmp_path: Path, monkeypatch) -> None:
    p = write(tmp_path / "app.log", incident_lines(log4j))
    since = ONSET + timedelta(minutes=10)
    r = _both(monkeypatch, [p], r"payment failed order=\d+[05]$", since=since, until=since + timedelta(minutes=1), max_hits=200)
    assert r.hits and all(since <= h.at < since + timedelta(minutes=1) for h in r.hits)
    lit = _both(monkeypatch, [p], "Pay.charge(Pay.java:42)", literal=True, max_hits=3)
    assert len(lit.hits) == 3
    assert _both(monkeypatch, [p], "--output=/tmp/x", max_hits=3).hits == []


def test_search_crlf_invalid_utf8_and_gzip(tmp_path: Path, monkeypatch) -> None:
    raw = b"2026-11-21T14:10:00Z ERROR bad \xff\xfe bytes\r\n2026-11-21T14:10:01Z INFO fine\r\n"
    p = tmp_path / "odd.log"
    p.write_bytes(raw)
    r = _both(monkeypatch, [p], "bad")
    assert r.hits[0].text == "2026-11-21T14:10:00Z ERROR bad \ufffd\ufffd bytes"
    gz = write(tmp_path / "app.log.2.gz", incident_lines(log4j), gz=True)
    plain = write(tmp_path / "plain.log", incident_lines(log4j))
    a = logs.search([gz], "SocketTimeout", now=NOW, context=1, max_hits=4)
    b = logs.search([plain], "SocketTimeout", now=NOW, context=1, max_hits=4)
    assert [h.model_dump(exclude={"path"}) for h in a.hits] == [h.model_dump(exclude={"path"}) for h in b.hits]


def test_search_stdin(tmp_path: Path, monkeypatch) -> None:
    data = "\n".join(incident_lines(log4j)).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    r = logs.search([STDIN], "payment failed", now=NOW, max_hits=2)
    assert [h.path for h in r.hits] == ["<stdin>", "<stdin>"] and r.hits[0].at == ONSET


def test_bad_patterns_are_usage_errors(tmp_path: Path) -> None:
    from incident.errors import UsageError

    p = write(tmp_path / "a.log", ["x"])
    for bad in ("", "(unclosed", "a\x00b"):
        with pytest.raises(UsageError):
            logs.search([p], bad, now=NOW)


def test_error_records_and_endpoints(tmp_path: Path) -> None:
    p = write(tmp_path / "app.log", incident_lines(log4j))
    recs = logs.error_records([p], since=ONSET, until=None, now=NOW, limit=3)
    assert len(recs) == 3 and recs[0].at == ONSET
    pay = next(r for r in recs if "payment failed" in r.text)
    assert "Caused by: java.net.SocketTimeoutException" in pay.text
    lines = p.read_text().splitlines()
    assert lines[recs[0].line_no - 1] == recs[0].text.splitlines()[0]
    acc = write(tmp_path / "access.log", [
        '1.1.1.1 - - [21/Nov/2026:14:10:00 +0000] "GET /api/orders/123?x=1 HTTP/1.1" 503 1',
        '1.1.1.1 - - [21/Nov/2026:14:10:01 +0000] "GET /api/orders/456 HTTP/1.1" 200 1',
        '1.1.1.1 - - [21/Nov/2026:14:10:02 +0000] "POST /api/cart HTTP/1.1" 200 1',
        '{"time":"2026-11-21T14:10:03Z","level":"error","msg":"x","route":"/api/cart"}',
    ])
    stats = logs.endpoint_stats([acc], since=None, until=None, now=NOW)
    assert [(s.name, s.errors, s.total) for s in stats] == [("/api/cart", 1, 2), ("/api/orders/:id", 1, 2)]


# ---------------------------------------------------------------- files and refusals


def test_rotated_siblings_oldest_first_and_globs(tmp_path: Path) -> None:
    for name in ("app.log", "app.log.1", "app.log.2.gz", "app.log.10.gz", "other.log"):
        (tmp_path / name).write_bytes(b"x\n")
    roots = Roots.of(tmp_path)
    files, notes = expand_paths([str(tmp_path / "app.log")], roots)
    assert [f.name for f in files] == ["app.log.10.gz", "app.log.2.gz", "app.log.1", "app.log"] and notes == []
    files, _ = expand_paths([str(tmp_path / "*.log*")], roots)
    assert [f.name for f in files] == ["app.log.10.gz", "app.log.2.gz", "app.log.1", "app.log", "other.log"]
    files, _ = expand_paths([str(tmp_path)], roots)
    assert len(files) == 5


def test_refused_paths_are_notes_not_errors(tmp_path: Path) -> None:
    inside = tmp_path / "logs"
    outside = tmp_path / "pods" / "ns_pod" / "app"
    inside.mkdir()
    outside.mkdir(parents=True)
    (outside / "0.log").write_text("x\n")
    (inside / "app.log").symlink_to(outside / "0.log")  # what /var/log/containers does
    os.mkfifo(inside / "fifo")
    (inside / "loop").symlink_to(inside / "loop")
    roots = Roots.of(inside)
    files, notes = expand_paths(
        [str(inside / "app.log"), str(inside / "fifo"), "/dev/zero", str(inside / "loop"), str(inside / "../../etc/passwd"), "-", "a\x00b"],
        roots,
    )
    assert files == []
    assert all(n.refused and n.kind == "logs" for n in notes) and len(notes) == 7
    k8s = notes[0]
    assert "outside" in k8s.reason and str(outside) in k8s.hint and "link" in k8s.hint
    assert "FIFO" in notes[1].reason and "device" in notes[2].reason or "outside" in notes[2].reason
    files, notes = expand_paths([str(inside / "*")], roots)
    assert files == [] and all(n.refused for n in notes)
    assert expand_paths(["-"], roots, allow_stdin=True)[0] == [STDIN]


def test_line_cap_and_chunking_of_a_huge_line(tmp_path: Path) -> None:
    p = tmp_path / "big.log"
    p.write_bytes(b"A" * (12 << 20) + b"\nshort\n")
    lines = list(logscan.iter_lines(p))
    assert all(len(line) <= logscan.LINE_CAP for _, line in lines)
    assert lines[-1][1] == b"short"


# ---------------------------------------------------------------- tools


def _box(tmp_path: Path) -> Toolbox:
    p = write(tmp_path / "logs" / "app.log", incident_lines(log4j))
    ctx = ToolContext(roots=Roots.of(p.parent), log_paths=[str(p)], clock=frozen_clock(NOW))
    return Toolbox(ctx, logs.TOOLS)


def test_tools_have_schemas_and_answer(tmp_path: Path) -> None:
    box = _box(tmp_path)
    assert [s["name"] for s in box.schemas()] == ["search_logs", "error_timeline", "log_patterns"]
    assert all(s["description"] and s["input_schema"]["type"] == "object" for s in box.schemas())
    r = box.run("search_logs", {"pattern": "payment failed", "max_hits": 2})
    assert r.status == "ok" and "[truncated" in r.text and len(r.data.hits) == 2
    t = box.run("error_timeline", {"since": "3h"})
    assert t.status == "ok" and t.data.onset == ONSET and "onset 2026-11-21T14:10:00Z" in t.text
    pt = box.run("log_patterns", {"since": "3h", "new_since": "2026-11-21T14:10:00Z"})
    assert pt.status == "ok" and any(x.new for x in pt.data)
    assert box.run("search_logs", {"pattern": "zzz-nothing"}).status == "no_data"
    assert box.run("search_logs", {"pattern": "("}).status == "error"


def test_tools_refuse_hostile_values_and_touch_nothing(tmp_path: Path) -> None:
    box = _box(tmp_path)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    hostile = ["--output=/tmp/x", "../../etc/passwd", "$(id)", "x" * 5000, "a\x00b", "/etc/passwd", "-"]
    for v in hostile:
        for name, args in (("search_logs", {"pattern": v, "paths": [v]}), ("error_timeline", {"since": v[:64], "paths": [v]}),
                           ("log_patterns", {"until": v[:64], "paths": [v]})):
            r = box.run(name, args)
            assert r.status in ("error", "no_data"), (name, v, r.text)
            assert "root:" not in r.text  # /etc/passwd was not read
    assert not Path("/tmp/x").exists() or Path("/tmp/x").stat().st_mtime_ns < min(before.values())
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before
