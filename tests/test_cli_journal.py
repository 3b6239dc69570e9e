import json

from incident.errors import EXIT_NOT_FOUND, EXIT_USAGE

NOW = "2026-11-21T14:41:00Z"


def test_new_note_show_timeline_list_json(cli, tmp_path):
    code, out, err = cli("new", "checkout 500s", "--service", "checkout", "--started", "14:33", "--now", NOW, "--json")
    assert code == 0, err
    created = json.loads(out)
    incident_id = created["incident_id"]
    assert incident_id == "2026-11-21-checkout-500s"
    assert (tmp_path / ".incidents" / incident_id / "events.jsonl").is_file()

    code, out, _ = cli("note", incident_id, "support reports EU customers only", "--now", "2026-11-21T14:45:00Z", "--json")
    assert code == 0 and json.loads(out)["at"].startswith("2026-11-21T14:45:00")

    code, out, _ = cli("show", "last", "--json")
    state = json.loads(out)
    assert state["id"] == incident_id and state["started_at"] == "2026-11-21T14:33:00Z"
    assert state["notes"][0]["text"] == "support reports EU customers only"

    code, out, _ = cli("timeline", incident_id, "--json")
    events = json.loads(out)["events"]
    assert [e["type"] for e in events] == ["incident.created", "note.added"]
    assert events[1]["at"].startswith("2026-11-21T14:45:00")

    code, out, _ = cli("list", "--json")
    assert [r["id"] for r in json.loads(out)["incidents"]] == [incident_id]


def test_human_output(cli):
    cli("new", "db latency", "--now", NOW)
    code, out, _ = cli("note", "db", "failover started", "--now", NOW)
    assert code == 0 and "recorded note in 2026-11-21-db-latency at 2026-11-21 14:41:00Z" in out
    code, out, _ = cli("timeline", "db")
    assert "note.added" in out and "failover started" in out
    code, out, _ = cli("list")
    assert "2026-11-21-db-latency" in out


def test_errors_have_exit_codes_and_json(cli):
    code, out, err = cli("show", "nope")
    assert code == EXIT_NOT_FOUND and "error: no incident 'nope'" in err and out == ""
    code, out, err = cli("show", "nope", "--json")
    assert code == EXIT_NOT_FOUND
    assert json.loads(out)["error"]["code"] == "not_found"
    code, _, err = cli("new")
    assert code == EXIT_USAGE and "needs a title" in err
    cli("new", "x", "--now", NOW)
    code, _, err = cli("note", "x", "   ")
    assert code == EXIT_USAGE
    code, _, err = cli("new", "y", "--now", "yesterday-ish")
    assert code == EXIT_USAGE and "cannot read time" in err


def test_incidents_dir_flag_and_env(cli, tmp_path, monkeypatch):
    code, out, _ = cli("new", "a", "--incidents-dir", str(tmp_path / "elsewhere"), "--json")
    assert code == 0 and (tmp_path / "elsewhere").is_dir()
    monkeypatch.setenv("INCIDENT_HOME", str(tmp_path / "env-home"))
    code, out, _ = cli("new", "b", "--json")
    assert json.loads(out)["path"].startswith(str(tmp_path / "env-home"))


def test_bad_config_exit_2_no_traceback(cli, tmp_path):
    (tmp_path / ".incident.yaml").write_text("engine: nope\n")
    code, out, err = cli("list")
    assert code == EXIT_USAGE and "engine" in err and "Traceback" not in err


def test_terminal_escapes_in_notes_are_neutralised(cli):
    cli("new", "esc", "--now", NOW)
    cli("note", "esc", "evil \x1b[2J\x1b]0;pwned\x07 text")
    code, out, _ = cli("timeline", "esc")
    assert "\x1b" not in out and "\\x1b[2J" in out
