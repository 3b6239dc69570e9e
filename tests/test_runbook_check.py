"""`incident runbook check`: every finding with file:line:col, every output format, exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from tests.runbook_fixtures import good, minimal, write
from typer.testing import CliRunner

from incident.cli import app
from incident.resources import data_dir
from incident.runbook_check import check_runbooks, github_annotations, junit_xml

TODAY = date(2026, 11, 21)
runner = CliRunner()

BROKEN = (
    "id: broken\n"  # 1
    "title: t\n"  # 2
    "owner: o\n"  # 3
    "reviewed_at: 2026-10-01\n"  # 4
    "match:\n"  # 5
    "  services: [cart]\n"  # 6
    "  keywords: [slow]\n"  # 7
    "vars: {namespace: shop}\n"  # 8
    "mitigations:\n"  # 9
    "  - action: wipe the cache\n"  # 10
    "    command: redis-cli -n 0 FLUSHALL\n"  # 11
    "  - action: bad placeholder\n"  # 12
    "    command: helm rollback {{ service }} {{ rollback.id }} -n {{ vars.ns }}\n"  # 13
    "  - action: filter\n"  # 14
    "    command: echo {{ service | upper }}\n"  # 15
    "  - action: unclosed\n"  # 16
    "    command: \"echo 'x {{ service }}\"\n"  # 17
    "  - action: marked\n"  # 18
    "    command: kubectl delete pod -l app={{ service }} -n {{ vars.namespace }}\n"  # 19
    "    destructive: true\n"  # 20
)


def _codes(report: object) -> list[tuple[str, int, int, str, str]]:
    return [(Path(p.file).name, p.line, p.column, p.severity, p.code) for p in report.problems]  # type: ignore[attr-defined]


def test_the_bundled_runbooks_pass_the_check_with_prompts() -> None:
    report = check_runbooks([data_dir("runbooks")], today=TODAY)
    assert report.ok, [p.model_dump() for p in report.problems]
    assert report.problems == []
    assert "checkout-deploy" in report.runbooks and len(report.runbooks) >= 6
    assert report.skipped == []  # the phase prompts exist and rendered with every runbook


def test_broken_commands_are_each_reported_at_their_line(tmp_path: Path) -> None:
    write(tmp_path, "broken.yaml", BROKEN)
    report = check_runbooks([tmp_path], today=TODAY, prompts=False)
    assert not report.ok
    assert _codes(report) == [
        ("broken.yaml", 10, 5, "error", "destructive-unmarked"),
        ("broken.yaml", 13, 14, "error", "placeholder"),
        ("broken.yaml", 13, 14, "error", "placeholder"),
        ("broken.yaml", 15, 14, "error", "template"),
        ("broken.yaml", 17, 14, "error", "command-parse"),
    ]
    messages = " | ".join(p.message for p in report.problems)
    assert "unknown placeholder {{ rollback.id }}" in messages
    assert "{{ vars.ns }} is not defined under `vars:`" in messages
    assert "`redis-cli -n 0 FLUSHALL` looks destructive" in messages


def test_schema_errors_from_loading_are_part_of_the_report(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", minimal("a", extra="  colour: red\n"))
    write(tmp_path, "b.yaml", "id: [\n")
    report = check_runbooks([tmp_path], today=TODAY, prompts=False)
    assert _codes(report) == [("a.yaml", 7, 3, "error", "schema"), ("b.yaml", 2, 1, "error", "yaml")]
    assert report.files == [str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")]
    assert report.runbooks == []


def test_stale_overlapping_duplicate_and_unmatched_runbooks(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", minimal("a", extra="  keywords: [slow]\n"))
    write(tmp_path, "b.yaml", minimal("b", services="[checkout, cart]", extra="  keywords: [SLOW]\n"))
    write(tmp_path, "c.yaml", minimal("c", extra="  keywords: [timeout]\n"))  # distinguished by keyword
    write(tmp_path, "d.yaml", minimal("a", services="[other]"))  # duplicate id
    write(tmp_path, "e.yaml", "id: e\ntitle: e\nowner: o\nreviewed_at: 2024-01-01\n")  # stale, matches nothing
    report = check_runbooks([tmp_path], today=TODAY, stale_days=180, prompts=False)
    assert _codes(report) == [
        ("b.yaml", 5, 1, "warning", "overlap"),
        ("d.yaml", 1, 5, "error", "duplicate-id"),
        ("e.yaml", 1, 5, "warning", "no-match-rules"),
        ("e.yaml", 4, 14, "warning", "stale"),
    ]
    overlap = report.problems[0].message
    assert "a (" in overlap and "service checkout" in overlap and "always pick a" in overlap
    assert "1055 days ago" in report.problems[3].message


def test_an_empty_directory_fails_the_check(tmp_path: Path) -> None:
    report = check_runbooks([tmp_path], today=TODAY)
    assert not report.ok and report.problems[0].code == "empty"


def test_prompts_that_cannot_render_are_skipped_or_reported(tmp_path: Path) -> None:
    write(tmp_path / "rb", "c.yaml", good())
    empty_prompts = tmp_path / "prompts"
    empty_prompts.mkdir()
    report = check_runbooks([tmp_path / "rb"], today=TODAY, prompts_dir=empty_prompts)
    assert report.ok and report.skipped == []  # nothing overridden: the bundled prompts render
    broken_prompts = tmp_path / "broken-prompts"
    write(broken_prompts, "assess.md", "{{ no_such_variable.at_all }}\n")
    report = check_runbooks([tmp_path / "rb"], today=TODAY, prompts_dir=broken_prompts)
    assert [(p.code, p.severity) for p in report.problems] == [("prompt", "error")]
    assert "assess.md does not render" in report.problems[0].message


def test_github_annotations_escape_and_locate(tmp_path: Path) -> None:
    write(tmp_path, "broken.yaml", BROKEN)
    write(tmp_path, "x.yaml", "id: 'a\n")
    report = check_runbooks([tmp_path], today=TODAY, prompts=False)
    lines = github_annotations(report, relative_to=tmp_path)
    assert lines[0] == (
        "::error file=broken.yaml,line=10,col=5,title=incident runbook check%3A destructive-unmarked::"
        "mitigations[0] (wipe the cache): `redis-cli -n 0 FLUSHALL` looks destructive; "
        "mark it `destructive: true` so reviewers and operators see it"
    )
    assert all(line.startswith("::error file=") for line in lines)
    assert lines[-1].startswith("::error file=x.yaml,line=")
    assert all("\n" not in line for line in lines)


def test_junit_xml_has_one_case_per_file_and_failures_for_errors(tmp_path: Path) -> None:
    write(tmp_path, "good.yaml", good())
    write(tmp_path, "broken.yaml", BROKEN)
    report = check_runbooks([tmp_path], today=TODAY, prompts=False)
    root = ET.fromstring(junit_xml(report))
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = {Path(c.get("name", "")).name: c for c in suite.findall("testcase")}
    assert set(cases) == {"good.yaml", "broken.yaml"}
    assert cases["good.yaml"].find("failure") is None
    failure = cases["broken.yaml"].find("failure")
    assert failure is not None and failure.get("message") == "5 error(s)"
    assert "broken.yaml:13:14: placeholder:" in (failure.text or "")


# ---------------------------------------------------------------- the CLI


def test_cli_check_text_ok_exit_0(tmp_path: Path) -> None:
    write(tmp_path, "c.yaml", good())
    result = runner.invoke(app, ["runbook", "check", str(tmp_path), "--now", "2026-11-21T00:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "1 file(s), 1 runbook(s): 0 error(s), 0 warning(s) — ok" in result.stdout


def test_cli_check_text_errors_exit_1_one_line_per_finding(tmp_path: Path) -> None:
    write(tmp_path, "broken.yaml", BROKEN)
    result = runner.invoke(app, ["runbook", "check", str(tmp_path), "--no-prompts", "--now", "2026-11-21T00:00:00Z"])
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"{tmp_path / 'broken.yaml'}:10:5: error [destructive-unmarked] mitigations[0]")
    assert first.endswith("so reviewers and operators see it")  # never wrapped
    assert "5 error(s), 0 warning(s) — failed" in result.stdout


def test_cli_check_json_and_junit(tmp_path: Path) -> None:
    write(tmp_path / "rb", "broken.yaml", BROKEN)
    junit = tmp_path / "out.xml"
    result = runner.invoke(
        app, ["runbook", "check", str(tmp_path / "rb"), "--format", "json", "--junit", str(junit), "--now", "2026-11-21T00:00:00Z"]
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["schema_version"], data["ok"], data["errors"], data["warnings"]) == (1, False, 5, 0)
    assert data["problems"][0] == {
        "file": str(tmp_path / "rb" / "broken.yaml"), "line": 10, "column": 5, "severity": "error",
        "code": "destructive-unmarked", "runbook_id": "broken",
        "message": "mitigations[0] (wipe the cache): `redis-cli -n 0 FLUSHALL` looks destructive; "
        "mark it `destructive: true` so reviewers and operators see it",
    }
    assert ET.parse(junit).getroot().get("failures") == "1"


def test_cli_check_github_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "runbooks", "broken.yaml", BROKEN)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["runbook", "check", "runbooks", "--format", "github", "--no-prompts"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("::error file=runbooks/broken.yaml,line=10,col=5,title=")
    assert lines[-1] == "1 runbook(s): 5 error(s), 0 warning(s)"


def test_cli_check_defaults_to_the_configured_runbooks_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, ".incident.yaml", "runbooks: [ops/runbooks]\n")
    write(tmp_path / "ops" / "runbooks", "c.yaml", good())
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    result = runner.invoke(app, ["runbook", "check", "--format", "json", "--now", "2026-11-21T00:00:00Z"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["runbooks"] == ["checkout-deploy"]


def test_cli_check_bundled_runbooks_exit_0() -> None:
    result = runner.invoke(app, ["runbook", "check", str(data_dir("runbooks")), "--now", "2026-11-21T00:00:00Z"])
    assert result.exit_code == 0, result.output


def test_cli_list_and_match(tmp_path: Path) -> None:
    write(tmp_path, "c.yaml", good())
    write(tmp_path, "d.yaml", minimal("generic", services="[]", extra="  keywords: [timeout]\n"))
    result = runner.invoke(app, ["runbook", "list", str(tmp_path), "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)["runbooks"]
    assert [r["id"] for r in rows] == ["checkout-deploy", "generic"]
    assert rows[0]["match"]["services"] == ["checkout"] and rows[0]["mitigations"] == ["rollback", "restart"]
    result = runner.invoke(app, ["runbook", "list", str(tmp_path), "--service", "checkout", "--symptom", "500s and a timeout", "--json"])
    rows = json.loads(result.stdout)["runbooks"]
    assert [(r["id"], r["score"], r["reasons"]) for r in rows] == [
        ("checkout-deploy", 110, ["service checkout", "keyword '500'"]),
        ("generic", 10, ["keyword 'timeout'"]),
    ]
    text = runner.invoke(app, ["runbook", "list", str(tmp_path)])
    assert text.exit_code == 0 and "checkout-deploy  Checkout errors after a deploy" in text.stdout


def test_cli_schema_is_json_schema() -> None:
    result = runner.invoke(app, ["runbook", "schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "incident runbook" and schema["additionalProperties"] is False
