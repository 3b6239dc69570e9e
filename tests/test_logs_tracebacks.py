"""Python tracebacks as records: an uncaught one is an error of its own whatever line came before
it (INFO, WARN), counted once with its `File` lines and its final `XError: ...` line; one after an
ERROR line is that error's exception (`logger.exception`), and a chained one is one failure.
Prose that quotes "Traceback (most recent call last):" is no crash. Plain files, CRI, Docker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incident.cli import app
from incident.tools import logscan
from incident.tools.logs import error_records
from incident.tools.patterns import mine_patterns
from incident.tools.timeline import error_timeline

runner = CliRunner()
T0 = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=40)
WINDOW = ["--since", "2026-11-21T13:50Z", "--until", "2026-11-21T14:40Z", "--now", NOW.isoformat()]


def _tb(final: str, chained: bool = False) -> list[str]:
    body = ["Traceback (most recent call last):", '  File "/app/svc/handlers.py", line 88, in handle',
            "    resp = client.get(url, timeout=2)", '  File "/usr/lib/python3.11/site-packages/requests/api.py", line 73, in get',
            "    return request(\"get\", url, params=params, **kwargs)", "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"]
    if not chained:
        return [*body, final]
    return ["Traceback (most recent call last):", '  File "/app/svc/cache.py", line 12, in get', "    return self._d[key]",
            "KeyError: 'user:42'", "", "During handling of the above exception, another exception occurred:", "", *body, final]


# (minute offset, level line, traceback or None, errors it makes)
EVENTS: list[tuple[int, str, list[str] | None, int]] = [
    (1, "INFO svc.worker: job 7 picked up", _tb("requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='pay', port=443): Read timed out."), 1),
    (5, "INFO svc.web: saw 'Traceback (most recent call last):' in an uploaded file, ignored", None, 0),
    (9, "ERROR svc.web: payment call failed", _tb("ConnectionError: ConnectionRefusedError: [Errno 111] Connection refused"), 1),
    (13, "WARNING svc.web: retrying payment", _tb("ValueError: ValueError: amount must be positive"), 1),
    (17, "INFO svc.web: cache warm", _tb("RuntimeError: lookup failed", chained=True), 1),
    (21, "DEBUG svc.web: idle", None, 0),
    (25, "INFO svc.worker: shutting down", _tb("SystemExit: 3"), 1),
]
ERRORS = sum(e[3] for e in EVENTS)


def _write(tmp_path: Path, style: str) -> Path:
    """Background INFO once a minute plus EVENTS, in time order; trace lines after their line
    (a few ms later, on stderr, as the runtime stamps them in a container log)."""
    rows: list[tuple[datetime, int, str]] = []
    for i in range(30):
        t = T0 + timedelta(minutes=i, seconds=30)
        rows.append((t, 0, _wrap(style, t, f"INFO svc.web: GET /health 200 in {i % 7} ms")))
    for minute, line, tb, _ in EVENTS:
        t = T0 + timedelta(minutes=minute)
        rows.append((t, 0, _wrap(style, t, line)))
        rows.extend((t, k + 1, _wrap(style, t + timedelta(milliseconds=3 + k), ln, raw=True)) for k, ln in enumerate(tb or []))
    path = tmp_path / f"{style}.log"
    path.write_text("\n".join(r[2] for r in sorted(rows, key=lambda r: (r[0], r[1]))) + "\n")
    return path


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"


def _wrap(style: str, t: datetime, text: str, raw: bool = False) -> str:
    inner = text if raw else f"{_ts(t)} {text}"
    iso = t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
    stream = "stderr" if raw else "stdout"
    if style == "cri":
        return f"{iso} {stream} F {inner}"
    if style == "docker":
        return json.dumps({"log": inner + "\n", "stream": stream, "time": iso}, separators=(",", ":"))
    return inner


STYLES = ["plain", "cri", "docker"]


@pytest.mark.parametrize("style", STYLES)
def test_cli_timeline_counts_each_traceback_once(tmp_path: Path, style: str) -> None:
    path = _write(tmp_path, style)
    r = runner.invoke(app, ["logs", "timeline", str(path), *WINDOW, "--json"])
    assert r.exit_code == 0, r.output
    buckets = json.loads(r.stdout)["timeline"]["buckets"]
    got = {b["at"][11:16]: b["errors"] for b in buckets if b["errors"]}
    assert got == {f"14:{m:02d}": 1 for m, _, _, n in EVENTS if n}


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("totals", [True, False])
def test_timeline_api_with_and_without_totals(tmp_path: Path, style: str, totals: bool) -> None:
    path = _write(tmp_path, style)
    tl = error_timeline([path], since=T0 - timedelta(minutes=10), until=NOW, now=NOW, totals=totals)
    assert tl.error_lines == ERRORS


@pytest.mark.parametrize("style", STYLES)
def test_records_hold_the_whole_traceback_and_open_after_info(tmp_path: Path, style: str) -> None:
    path = _write(tmp_path, style)
    parser = logscan.parser_for(path, NOW)
    recs = list(logscan.iter_records(path, parser))
    tbs = [r for r in recs if b"Traceback (most recent call last):" in r.first and b"saw '" not in r.first]
    # INFO, WARNING, chained-after-INFO and SystemExit open their own; the ERROR one stays with its line.
    assert len(tbs) == 4
    finals = [r.lines[-1] for r in tbs]
    assert any(b"Read timed out." in f for f in finals)
    assert any(b"SystemExit: 3" in f for f in finals)
    chained = next(r for r in tbs if any(b"KeyError: 'user:42'" in x for x in r.lines))
    assert any(b"RuntimeError: lookup failed" in x for x in chained.lines)
    assert all(r.ts is not None for r in tbs)
    logged = next(r for r in recs if b"payment call failed" in r.first)
    assert any(b"ConnectionRefusedError" in x for x in logged.lines)
    prose = next(r for r in recs if b"uploaded file" in r.first)
    assert len(prose.lines) == 1 and not logscan.is_error(prose.lines)


@pytest.mark.parametrize("style", STYLES)
def test_error_records_and_patterns_see_each_traceback(tmp_path: Path, style: str) -> None:
    path = _write(tmp_path, style)
    recs = error_records([path], since=T0 - timedelta(minutes=10), until=NOW, now=NOW)
    assert len(recs) == ERRORS
    assert not any("uploaded file" in r.text for r in recs)
    pats = mine_patterns([path], since=T0 - timedelta(minutes=10), until=NOW, now=NOW, level="error")
    assert sum(p.count for p in pats) == ERRORS
    assert all(p.level == "error" for p in pats)


@pytest.mark.parametrize("style", STYLES)
def test_cli_search_and_patterns_json(tmp_path: Path, style: str) -> None:
    path = _write(tmp_path, style)
    r = runner.invoke(app, ["logs", "patterns", str(path), *WINDOW, "--json"])
    assert r.exit_code == 0, r.output
    assert sum(p["count"] for p in json.loads(r.stdout)["patterns"] if p["level"] == "error") == ERRORS
    r = runner.invoke(app, ["logs", "search", "ReadTimeout", str(path), *WINDOW, "--literal", "-C", "2", "--json"])
    assert r.exit_code == 0, r.output
    hits = json.loads(r.stdout)["hits"]
    assert len(hits) == 1 and hits[0]["at"].startswith("2026-11-21T14:01:")
    assert any("^^^^" in x for x in hits[0]["before"])


def test_info_line_quoting_traceback_in_prose_is_no_error(tmp_path: Path) -> None:
    lines = [f"{_ts(T0 + timedelta(minutes=i))} INFO svc.docs: the guide explains Traceback (most recent call last): lines" for i in range(20)]
    lines += ["    Traceback (most recent call last):  <- quoted, indented"]
    path = tmp_path / "prose.log"
    path.write_text("\n".join(lines) + "\n")
    tl = error_timeline([path], since=T0 - timedelta(minutes=5), until=NOW, now=NOW)
    assert tl.error_lines == 0 and tl.total_lines == 20
    r = runner.invoke(app, ["logs", "timeline", str(path), *WINDOW, "--json"])
    assert r.exit_code == 0 and sum(b["errors"] for b in json.loads(r.stdout)["timeline"]["buckets"]) == 0
