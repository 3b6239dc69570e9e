"""What the operator reads: narrow terminals keep ids, times and commands whole; pipes get no
escapes; every --help says what its options take and shows an example."""

from __future__ import annotations

import json

import pytest

from incident.cli import app

NOW = "2026-11-21T14:40:00Z"
ROLLBACK = "helm rollback checkout 4 -n shop --wait --timeout 5m"


def _commands() -> list[list[str]]:
    import typer

    group = typer.main.get_command(app)
    out = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        subs = getattr(cmd, "commands", None)
        out += [[name, sub] for sub in subs] if subs else [[name]]
    return out


@pytest.mark.parametrize("args", _commands(), ids=" ".join)
def test_every_help_page_has_an_example_and_names_what_options_take(cli, args):
    code, out, _ = cli(*args, "--help")
    assert code == 0 and "Usage: incident" in out
    assert "Example" in out or args == ["list"]  # `incident list` takes nothing worth an example
    options = out.split("Options:", 1)[1]
    assert "<list[" not in options and "<str>" not in options  # a metavar says WHEN, GLOB, FILE...


def test_examples_in_help_are_never_rewrapped(cli):
    code, out, _ = cli("triage", "--help", env={"COLUMNS": "60"})
    example = "incident triage --service checkout --symptom \"500s on /api/checkout\" --logs 'logs/*.log' --deploys deploys.json"
    assert code == 0 and example in out.splitlines()[out.splitlines().index("  Example:") + 1]


def test_time_options_say_which_forms_they_take(cli):
    for args in (["logs", "timeline"], ["changes"], ["mark"], ["new"]):
        out = cli(*args, "--help", env={"COLUMNS": "200"})[1]
        assert "ISO 8601" in out and "HH:MM" in out and "2h" in out, args


def example_run(cli, tmp_path, columns: int) -> str:
    code, out, err = cli("triage", "--example", "--incidents-dir", str(tmp_path / "inc"), env={"COLUMNS": str(columns)})
    assert code == 0, err
    return out


@pytest.mark.parametrize("columns", [60, 80])
def test_the_walk_fits_a_narrow_terminal_and_commands_stay_whole(cli, tmp_path, columns):
    out = example_run(cli, tmp_path, columns)
    lines = out.splitlines()
    # Only what is copied may run past the edge (the terminal folds it; it copies whole): a
    # command, or the path of the incident folder.
    too_wide = [ln for ln in lines if len(ln) > columns and not ln.lstrip().startswith("$ ") and "incident " not in ln
                and str(tmp_path) not in ln]  # fmt: skip
    assert too_wide == []
    assert any(ln.strip() == f"$ {ROLLBACK}" for ln in lines)
    # A wrapped row of a panel continues under its own indent, not under the border.
    evidence = [ln for ln in lines if "evidence:" in ln]
    assert evidence and all(ln.startswith("│   evidence:") for ln in evidence)


def test_verify_without_measurements_says_nothing_rather_than_question_marks(cli, tmp_path):
    out = example_run(cli, tmp_path, 100)
    verify = out.split("Verify ·", 1)[1].split("Review ·", 1)[0]
    assert "?" not in verify.split("\n", 2)[1] and "No mitigation recorded yet" in verify


def test_piped_output_carries_no_escape_sequences(cli, tmp_path):
    # NO_COLOR unset: colour is off because stdout is not a terminal, not because it was asked.
    code, out, err = cli("triage", "--example", "--incidents-dir", str(tmp_path / "inc"), env={"NO_COLOR": ""})
    assert code == 0 and "\x1b" not in out and "\x1b" not in err
    code, out, err = cli("list", "--incidents-dir", str(tmp_path / "inc"), env={"NO_COLOR": ""})
    assert code == 0 and "\x1b" not in out


def test_list_keeps_ids_whole_at_60_columns(cli, tmp_path):
    inc = str(tmp_path / "inc")
    for title in ("checkout returns 500s for every EU customer", "payments slow"):
        assert cli("new", title, "--service", "checkout", "--incidents-dir", inc, "--now", NOW)[0] == 0
    ids = [r["id"] for r in json.loads(cli("list", "--json", "--incidents-dir", inc)[1])["incidents"]]
    out = cli("list", "--incidents-dir", inc, env={"COLUMNS": "60"})[1]
    assert all(any(ln.split()[0] == i for ln in out.splitlines() if ln.strip()) for i in ids)
    assert max(len(ln) for ln in out.splitlines()) <= 60
    assert "2026-11-21 14:40Z" in cli("list", "--incidents-dir", inc, env={"COLUMNS": "120"})[1]


def test_deploys_keep_times_and_ids_whole_at_60_columns(cli, tmp_path):
    lines = [
        {"id": f"deploy-{i}", "service": "checkout", "started_at": f"2026-11-21T1{i}:00:00Z", "status": "succeeded",
         "version": f"2.{i}.0", "sha": "f62d0ad24f4cf6c454bf97162aa261d9208bbade", "actor": "deploy-bot",
         "environment": "production", "description": "a fairly long description of what went out"}
        for i in range(3)
    ]  # fmt: skip
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    code, out, _ = cli("deploys", "d.jsonl", "--now", NOW, env={"COLUMNS": "60"})
    assert code == 0 and "…" not in out
    assert all(f"2026-11-21 1{i}:00Z" in out and f"deploy-{i}" in out for i in range(3))
    assert max(len(ln) for ln in out.splitlines()) <= 60


def test_journal_times_read_the_same_everywhere(cli, tmp_path):
    inc = str(tmp_path / "inc")
    cli("new", "x", "--incidents-dir", inc, "--now", NOW, "--started", "14:32")
    out = cli("show", "last", "--incidents-dir", inc)[1]
    assert "2026-11-21 14:32Z" in out and "T14:32" not in out
    out = cli("timeline", "last", "--incidents-dir", inc)[1]
    assert "2026-11-21 14:40:00Z" in out and "T14:40" not in out.split("incident.created")[0]
