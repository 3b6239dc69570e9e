"""Property tests: any input to a parser or reader ends in a result or a user-facing
`IncidentError`, never an unexpected exception (which the CLI would show as "internal error").

Each property is bounded (max_examples, no deadline) so the module stays within a few seconds
of the normal run; the example counts are listed in docs/reliability.md.
"""

from __future__ import annotations

import csv
import io
import json
import os
import string
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident.errors import IncidentError

NOW = datetime(2026, 11, 21, 14, 40, tzinfo=UTC)
# The normal run keeps each property to ~100 examples; the slow run (below) reruns this module
# with INCIDENT_FUZZ_SCALE=10.
_SCALE = int(os.environ.get("INCIDENT_FUZZ_SCALE", "1"))
_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
FUZZ = settings(max_examples=100 * _SCALE, deadline=None, suppress_health_check=_QUIET)
FEW = settings(max_examples=40 * _SCALE, deadline=None, suppress_health_check=_QUIET)

_DIR = Path(tempfile.mkdtemp(prefix="incident-fuzz-"))


def _file(data: bytes | str, name: str = "input") -> Path:
    path = _DIR / name
    path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    return path


# ------------------------------------------------------------------ building blocks

stamps = st.sampled_from([
    "2026-11-21T14:33:01Z", "2026-11-21T14:33:01.123+02:00", "2026-11-21 14:33:01,123", "Nov 21 14:33:01",
    "[21/Nov/2026:14:33:01 +0000]", "1795271581", "1795271581123", "21/Nov/2026:14:33:01", "2026-13-45T25:61:61Z",
    "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "Feb 30 25:00:00", "-1", "1e400", "99999999999999999999",
    "2026-11-21T14:33:01+99:99", "2026-11-21T14:33:01-00:00", "", "T", "Z",
])
noise = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80)
lines = st.lists(st.one_of(noise, st.builds(lambda s, n: f"{s} {n}", stamps, noise),
                           st.builds(lambda s, lv, n: f"{s} {lv} {n}", stamps, st.sampled_from(["ERROR", "WARN", "INFO", "error", "FATAL", "Traceback"]), noise)),
                 max_size=30)
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), noise, stamps)
json_values = st.recursive(json_scalar, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(noise, inner, max_size=4), max_leaves=12)
DEPLOY_KEYS = ["id", "revision", "version", "sha", "commit", "status", "state", "at", "timestamp", "time", "updated",
               "deployed_at", "created_at", "service", "app", "description", "message", "environment", "rollback_to",
               "reverts", "actor", "user", "chart", "app_version", "deployedAt", "source", "revisions", "history",
               "metadata", "spec", "status", "statuses", "ref", "task", "name", "finished_at", "current"]
deploy_records = st.dictionaries(st.sampled_from(DEPLOY_KEYS), st.one_of(json_values, stamps), max_size=8)


# ------------------------------------------------------------------ timestamps and times


@FUZZ
@given(st.one_of(noise, st.binary(max_size=200), st.builds(lambda a, b: f"{a}{b}", stamps, noise)))
def test_timestamp_parser_returns_a_utc_time_or_none(text):
    from incident.tools.timestamps import parse_timestamp

    got = parse_timestamp(text, NOW)
    assert got is None or got.utcoffset() == timedelta(0)


@FUZZ
@given(lines)
def test_line_parser_detects_and_parses_any_lines(ls):
    from incident.tools.timestamps import detect

    raw = [ln.encode("utf-8", "surrogatepass") for ln in ls]
    parser = detect(raw, NOW)
    for line in raw:
        stamp = parser.parse(line)
        assert stamp is None or isinstance(stamp.ts, float)


@FUZZ
@given(st.one_of(noise, stamps, st.from_regex(r"\A-?\d{1,25}[smhd]\Z"), st.from_regex(r"\A\d{1,3}:\d{1,3}(:\d{1,3})?\Z")))
def test_operator_times_parse_or_are_usage_errors(text):
    from incident.clock import parse_when

    try:
        got = parse_when(text, now=NOW)
    except IncidentError:
        return
    assert got.utcoffset() == timedelta(0)


# ------------------------------------------------------------------ deploy histories

FORMAT_DOCS = {
    "jsonl": lambda recs: "\n".join(json.dumps(r) for r in recs),
    "helm": lambda recs: json.dumps(recs),
    "argocd": lambda recs: json.dumps({"metadata": {"name": "checkout"}, "status": {"history": recs}}),
    "heroku": lambda recs: json.dumps(recs),
    "github": lambda recs: json.dumps(recs),
}


def _csv(recs: list[dict]) -> str:
    keys = sorted({k for r in recs for k in r}) or ["id"]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(keys)
    for r in recs:
        w.writerow([json.dumps(r[k]) if isinstance(r.get(k), (dict, list)) else r.get(k, "") for k in keys])
    return buf.getvalue()


def _read_any(path: Path, fmt: str | None) -> None:
    from incident.tools.deploys import last_good_before, read_report

    try:
        report = read_report(path, fmt, service="checkout")
    except IncidentError:
        return
    assert all(d.started_at.utcoffset() == timedelta(0) for d in report.deploys)
    if report.deploys:
        last_good_before(report.deploys, report.deploys[-1])


@FUZZ
@given(st.lists(deploy_records, max_size=6), st.sampled_from([*FORMAT_DOCS, "csv"]), st.sampled_from([None, "same", "other"]))
def test_every_deploy_reader_takes_any_records(recs, fmt, named):
    from incident.tools.deploys import FORMATS

    text = _csv(recs) if fmt == "csv" else FORMAT_DOCS[fmt](recs)
    path = _file(text, f"deploys.{fmt}")
    chosen = None if named is None else fmt if named == "same" else next(f for f in FORMATS if f != fmt)
    _read_any(path, chosen)


@FUZZ
@given(st.one_of(st.binary(max_size=300), noise, json_values.map(json.dumps)), st.sampled_from([None, "jsonl", "csv", "helm", "argocd", "heroku", "github"]))
def test_deploy_readers_and_detection_take_any_bytes(data, fmt):
    from incident.tools.deploy_io import detect_format

    path = _file(data, "deploys.raw")
    try:
        detect_format(path)
    except IncidentError:
        pass
    _read_any(path, fmt)


# ------------------------------------------------------------------ runbooks and config

RUNBOOK_KEYS = ["id", "title", "version", "match", "services", "alerts", "symptoms", "keywords", "mitigations",
                "action", "command", "risk", "reversibility", "time_to_effect", "kind", "destructive", "verify",
                "signals", "vars", "sources", "logs", "deploys", "severity", "owners", "description", "check", "when"]
yamlish = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.one_of(st.sampled_from(RUNBOOK_KEYS), noise), inner, max_size=5),
    max_leaves=20,
)


def _yaml_text(doc) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


@FUZZ
@given(st.one_of(yamlish.map(_yaml_text), noise, st.binary(max_size=200),
                 st.sampled_from(["a: &x [*x]", "a: !!python/object:os.system ls", "? [a]\n: b", "a: b\na: c", "{{{", "- - - -",
                                  "x: " + "[" * 200 + "]" * 200, "id: ok\nmatch: {services: ['(a+)+$']}"])))
def test_runbook_loader_reports_problems_never_crashes(text):
    from incident.runbooks import load_runbook_file, match_runbooks

    path = _file(text, "runbook.yaml")
    rb, problems = load_runbook_file(path)
    assert rb is not None or problems
    if rb is not None:
        match_runbooks([rb], service="checkout", alert="HighErrorRate", symptom="500s (a+)+$", title="x" * 50)


CONFIG_KEYS = ["services", "name", "repo", "logs", "deploys", "path", "format", "model", "engine", "incidents_dir",
               "runbooks", "roots", "slo_target", "comms_cadence_minutes", "max_steps", "llm_budget_seconds", "base_url"]


@FUZZ
@given(st.one_of(st.recursive(json_scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.one_of(st.sampled_from(CONFIG_KEYS), noise), inner, max_size=5), max_leaves=15).map(_yaml_text),
                 noise, st.binary(max_size=200)))
def test_config_loader_gives_settings_or_a_config_error(text):
    from incident.config import incidents_dir, load_settings

    path = _file(text, ".incident.yaml")
    try:
        s = load_settings(config=path, env={})
    except IncidentError:
        return
    incidents_dir(s)
    for svc in s.services:
        s.service(svc.name)


# ------------------------------------------------------------------ the journal


def _event_line(draw_type: str, payload) -> str:
    return json.dumps({"schema_version": 1, "at": "2026-11-21T14:40:00Z", "type": draw_type, "payload": payload})


EVENT_TYPES = ["incident.created", "note.added", "severity.set", "phase.started", "phase.completed", "phase.failed",
               "command.ran", "command.skipped", "evidence.saved", "status.changed", "llm.usage", "engine.fallback",
               "comms.drafted", "postmortem.written", "triage.started", "triage.finished", "future.event"]
PAYLOAD_KEYS = ["id", "title", "service", "text", "severity", "confirmed", "phase", "engine", "output", "usage", "at",
                "status", "ran_at", "action", "command", "kind", "vetted", "path", "next_update_at", "request",
                "classification", "onset", "recovered_at", "started_at", "input_tokens", "cost_usd", "summary"]
payloads = st.recursive(json_scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(PAYLOAD_KEYS), inner, max_size=6), max_leaves=20)
journal_lines = st.lists(st.one_of(
    st.builds(_event_line, st.sampled_from(EVENT_TYPES), st.dictionaries(st.sampled_from(PAYLOAD_KEYS), payloads, max_size=6)),
    noise, st.just("{}"), st.just('{"at": "not a time", "type": 3}'),
), max_size=8)


@FUZZ
@given(journal_lines, st.booleans(), st.binary(max_size=40))
def test_journal_reader_and_everything_built_on_it(ls, created_first, tail):
    from incident import incidents
    from incident.journal import Journal
    from incident.report import build_postmortem
    from incident.state import fold

    folder = _DIR / "journal"
    folder.mkdir(exist_ok=True)
    head = [_event_line("incident.created", {"id": "x", "title": "t"})] if created_first else []
    (folder / "events.jsonl").write_bytes(("\n".join(head + ls) + "\n").encode("utf-8", "surrogatepass") + tail)
    journal = Journal(folder)
    try:
        result = journal.read()
        state = fold(result.events)
        incidents.show(journal)
        incidents.timeline_rows(journal)
        build_postmortem(state, result.events, folder, slo_target=0.999)
    except IncidentError as e:
        assert str(folder) in e.message or "journal" in e.message


# ------------------------------------------------------------------ logs: patterns, timeline, redaction


@FEW
@given(lines, st.booleans())
def test_pattern_miner_takes_any_log(ls, crlf):
    from incident.tools.patterns import Miner, mask, mine_patterns

    sep = "\r\n" if crlf else "\n"
    path = _file(sep.join(ls), "app.log")
    got = mine_patterns([path], since=None, until=None, now=NOW, level="any", new_since=NOW - timedelta(minutes=10))
    assert all(p.count >= 1 for p in got)
    miner = Miner()
    for ln in ls:
        miner.add(mask(ln.encode("utf-8", "surrogatepass")))
    miner.merge()


@FEW
@given(lines, st.sampled_from([None, 60, 3600]))
def test_error_timeline_and_log_scan_take_any_log(ls, window):
    from incident.tools import logscan
    from incident.tools.timeline import error_timeline

    path = _file("\n".join(ls), "app.log")
    since = NOW - timedelta(seconds=window) if window else None
    tl = error_timeline([path], since=since, until=NOW if window else None, now=NOW)
    assert tl.total_lines >= 0
    parser = logscan.parser_for(path, NOW)
    for rec in logscan.iter_records(path, parser):
        rec.text()


@FUZZ
@given(st.one_of(noise, st.builds(lambda k, v: f"{k}={v}", st.sampled_from(["password", "token", "Authorization", "api_key", "secret"]), noise),
                 st.text(string.printable, max_size=300)))
def test_redactor_always_returns_text(text):
    from incident.redact import redact, redact_json

    out, n = redact(text)
    assert isinstance(out, str) and n >= 0
    redact_json({"k": text, "password": text, "list": [text, {"token": text}]})


@FEW
@given(st.lists(st.one_of(noise, st.binary(max_size=60).map(lambda b: b.decode("latin-1"))), max_size=10))
def test_search_takes_any_pattern_and_log(ls):
    from incident.tools.logs import search

    path = _file("\n".join(ls), "search.log")
    for pattern in [*ls[:1], "(", "a{99999}", "(a+)+$"]:
        for use_rg in (True, False):
            try:
                search([path], pattern, now=NOW, since=NOW - timedelta(hours=1), until=NOW, use_rg=use_rg, context=2)
            except IncidentError:
                pass


@pytest.fixture(autouse=True, scope="module")
def _cleanup():
    yield
    import shutil

    shutil.rmtree(_DIR, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_properties_at_ten_times_the_examples(capsys):
    env = {**os.environ, "INCIDENT_FUZZ_SCALE": "10"}
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__, "-m", "not slow"],
                       env=env, capture_output=True, text=True, timeout=880)
    with capsys.disabled():
        print("\n" + p.stdout.strip().splitlines()[-1])
    assert p.returncode == 0, p.stdout[-5000:]

