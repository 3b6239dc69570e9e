"""Errors that name what was missing and what to do: exit 3 for a path that is not there, 2 for
one that is there but the wrong kind of thing."""

from __future__ import annotations

from pathlib import Path

from incident.errors import EXIT_NOT_FOUND, EXIT_USAGE
from incident.resources import data_dir


def test_a_missing_scenario_folder_is_not_found(cli, tmp_path: Path) -> None:
    code, _, err = cli("runbook", "dry-run", str(data_dir("runbooks")), "--scenario", str(tmp_path / "nope"))
    assert code == EXIT_NOT_FOUND and "no such scenario folder" in err and "--scenario DIR" in err


def test_a_log_directory_with_no_logs_is_named(cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = cli("logs", "search", "timeout", str(empty))
    assert code == EXIT_NOT_FOUND and f"no readable log files in {empty}" in " ".join(err.split())


def test_a_postmortem_template_that_is_a_directory(cli, tmp_path: Path) -> None:
    inc = tmp_path / "inc"
    code, _, err = cli("new", "checkout 500s", "--service", "checkout", "--incidents-dir", str(inc))
    assert code == 0, err
    code, _, err = cli("postmortem", "last", "--template", str(tmp_path), "--incidents-dir", str(inc))
    assert code == EXIT_USAGE and "is a directory" in err and "hint:" in err
