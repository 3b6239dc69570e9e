"""The operator's experience at the command line: errors that say what to do, --json that stays
JSON when the input is bad, and exit codes scripts can rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from incident.errors import EXIT_INTERRUPTED, EXIT_NOT_FOUND, EXIT_USAGE

NOW = "2026-11-21T14:40:00Z"


def log_file(tmp_path: Path) -> Path:
    p = tmp_path / "app.log"
    p.write_text("2026-11-21T14:30:00Z ERROR boom\n2026-11-21T14:31:00Z INFO ok\n", encoding="utf-8")
    return p


def json_error(out: str) -> dict:
    doc = json.loads(out)
    assert doc["schema_version"] == 1 and set(doc["error"]) == {"code", "message", "hint"}
    return doc["error"]


@pytest.mark.parametrize(
    "args",
    [
        ["show", "--json"],  # a missing argument, refused by click before any callback runs
        ["changes", "-n", "0", "--json"],  # a range check on an option given before --json
        ["bogus", "--json"],  # an unknown command
        ["runbook", "check", "--format", "json", "--bogus"],  # --format json counts as JSON too
    ],
)
def test_click_usage_errors_are_json_when_json_was_asked_for(cli, args):
    code, out, err = cli(*args)
    assert code == EXIT_USAGE and err == ""
    e = json_error(out)
    assert e["code"] == "usage" and e["message"] and e["hint"].startswith("see `incident")


def test_usage_errors_without_json_stay_click_text(cli):
    code, out, err = cli("show")
    assert code == EXIT_USAGE and out == "" and "Missing argument" in err


def test_every_json_error_carries_the_schema_version(cli):
    code, out, _ = cli("show", "nope", "--json")
    assert code == EXIT_NOT_FOUND and json_error(out)["code"] == "not_found"


def test_a_misspelt_engine_is_a_usage_error_not_an_internal_one(cli, tmp_path):
    code, out, err = cli("triage", "--logs", str(log_file(tmp_path)), "--engine", "claud", "--now", NOW)
    assert code == EXIT_USAGE and "--engine 'claud'" in err and "offline" in err and "internal" not in err
    assert not (tmp_path / ".incidents").exists()  # refused before an incident was opened


def test_severity_takes_what_people_type_and_refuses_the_rest(cli, tmp_path):
    code, out, _ = cli("triage", "--logs", str(log_file(tmp_path)), "--severity", "sev1", "--now", NOW, "--json")
    assert code == 0 and json.loads(out)["severity"] == "SEV-1"
    code, _, err = cli("triage", "--logs", str(log_file(tmp_path)), "--severity", "7", "--now", NOW)
    assert code == EXIT_USAGE and "--severity '7'" in err and "SEV-1" in err


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["logs", "timeline", "APP", "--since", "yesterday"], "--since"),
        (["logs", "search", "x", "APP", "--until", "soon"], "--until"),
        (["logs", "patterns", "APP", "--new-since", "dawn"], "--new-since"),
        (["new", "x", "--started", "earlier"], "--started"),
        (["changes", "--since", "last week"], "--since"),
        (["logs", "search", "x", "APP", "--now", "14:30"], "--now"),  # --now needs an absolute time: nothing to be relative to
    ],
)
def test_a_bad_time_names_the_flag_it_came_from(cli, tmp_path, args, named):
    args = [str(log_file(tmp_path)) if a == "APP" else a for a in args]
    code, _, err = cli(*args)
    assert code == EXIT_USAGE and err.startswith(f"error: {named}: cannot read time") and "hint:" in err


def test_a_bad_incident_now_in_the_environment_is_named(cli):
    code, _, err = cli("list", env={"INCIDENT_NOW": "garbage"})
    assert code == EXIT_USAGE and "INCIDENT_NOW" in err and "2026-11-21T14:40:00Z" in err


def test_an_end_before_the_start_is_refused(cli, tmp_path):
    code, out, _ = cli("logs", "search", "boom", str(log_file(tmp_path)), "--since", "14:30", "--until", "14:00", "--now", NOW, "--json")
    assert code == EXIT_USAGE and "before --since" in json_error(out)["message"]


def test_an_incidents_dir_that_is_a_file_is_refused(cli, tmp_path):
    f = tmp_path / "not-a-dir"
    f.write_text("x", encoding="utf-8")
    for args in (["list"], ["new", "x"]):
        code, out, err = cli(*args, "--incidents-dir", str(f))
        assert code == EXIT_USAGE and "is a file" in err and out == ""


def test_ctrl_c_in_a_triage_names_the_command_that_continues_it(cli, tmp_path, monkeypatch):
    import incident.triage as triage_core

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(triage_core, "run", interrupted)
    code, out, err = cli("triage", "--logs", str(log_file(tmp_path)))
    assert code == EXIT_INTERRUPTED and out == ""
    assert err.startswith("\n") and "interrupted" in err and "incident triage --resume last" in err
    code, _, err = cli("triage", "--resume", "2026-11-21-x")
    assert code == EXIT_INTERRUPTED and "incident triage --resume 2026-11-21-x" in err
    code, out, _ = cli("triage", "--logs", str(log_file(tmp_path)), "--json")
    assert code == EXIT_INTERRUPTED and json_error(out)["code"] == "interrupted"


def test_a_deploy_file_it_cannot_read_is_named_once_with_a_hint(cli, tmp_path):
    bad = tmp_path / "history.json"
    bad.write_text("not json, not yaml: [", encoding="utf-8")
    code, _, err = cli("deploys", str(bad))
    assert code == EXIT_USAGE and err.count("history.json") == 1 and "hint:" in err
    (tmp_path / "dir").mkdir()
    code, _, err = cli("deploys", "dir")
    assert code == EXIT_USAGE and "'dir/*.json'" in err
