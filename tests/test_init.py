"""`incident init`: scaffolding in an empty dir and over existing files, and what it writes works."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from incident.cli import app
from incident.config import load_settings
from incident.runbook_check import check_runbooks
from incident.scaffold import FILES, scaffold, service_name

runner = CliRunner()
TODAY = date(2026, 11, 21)
ALL = [".incident.yaml", "runbooks/shop-api-deploy.yaml", "INCIDENT.md", ".github/workflows/incident-runbooks.yml",
       ".claude/skills/incident-triage.md"]


def test_init_in_an_empty_dir_creates_everything_and_it_all_works(tmp_path: Path) -> None:
    root = tmp_path / "shop-api"
    result = scaffold(root, today=TODAY)
    assert [(f["path"], f["status"]) for f in result.files] == [(p, "created") for p in ALL]
    settings = load_settings(config=root / ".incident.yaml", env={})
    assert settings.runbooks == ["runbooks"] and settings.services[0].name == "shop-api"
    assert settings.services[0].repo is None and settings.services[0].logs == []  # no repo, no logs found: left as comments
    report = check_runbooks([root / "runbooks"], today=TODAY)
    assert report.ok and report.problems == [], [p.model_dump() for p in report.problems]
    assert report.runbooks == ["shop-api-deploy"]


def test_init_detects_the_repo_and_guesses_log_and_deploy_paths(tmp_path: Path) -> None:
    repo = tmp_path / "monorepo"
    (repo / ".git").mkdir(parents=True)
    svc = repo / "services" / "Cart Service"
    (svc / "logs").mkdir(parents=True)
    (svc / "logs" / "app.log").write_text("x\n")
    (svc / "deploys.jsonl").write_text("{}\n")
    scaffold(svc, today=TODAY)
    settings = load_settings(config=svc / ".incident.yaml", env={})
    s = settings.services[0]
    assert s.name == "cart-service"
    assert s.repo == "../.."
    assert s.logs == ["logs/*.log"]
    assert [d.path for d in s.deploys] == ["deploys.jsonl"]
    assert settings.resolve(s.repo) .resolve() == repo.resolve()


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    root = tmp_path / "shop-api"
    (root / "runbooks").mkdir(parents=True)
    (root / "INCIDENT.md").write_text("our own procedure\n")
    (root / "runbooks" / "shop-api-deploy.yaml").write_text("id: ours\n")
    result = scaffold(root, today=TODAY)
    status = {f["path"]: f["status"] for f in result.files}
    assert status == {**{p: "created" for p in ALL}, "INCIDENT.md": "skipped", "runbooks/shop-api-deploy.yaml": "skipped"}
    assert (root / "INCIDENT.md").read_text() == "our own procedure\n"
    assert (root / "runbooks" / "shop-api-deploy.yaml").read_text() == "id: ours\n"
    again = scaffold(root, today=TODAY)
    assert {f["status"] for f in again.files} == {"skipped"}
    forced = scaffold(root, force=True, today=TODAY)
    assert {f["status"] for f in forced.files} == {"overwritten"}
    assert (root / "INCIDENT.md").read_text().startswith("# When production is failing")


def test_init_never_writes_through_a_symlink_even_with_force(tmp_path: Path) -> None:
    root = tmp_path / "shop-api"
    root.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (root / "INCIDENT.md").symlink_to(victim)
    (root / ".incident.yaml").symlink_to(tmp_path / "dangling")
    result = scaffold(root, force=True, today=TODAY)
    status = {f["path"]: (f["status"], f["note"]) for f in result.files}
    assert status["INCIDENT.md"] == ("skipped", "is a symlink; not touched")
    assert status[".incident.yaml"] == ("skipped", "is a symlink; not touched")
    assert victim.read_text() == "precious\n" and not (tmp_path / "dangling").exists()


def test_the_scaffolded_procedure_is_the_projects_own() -> None:
    here = Path(__file__).resolve().parents[1]
    assert (here / "INCIDENT.md").read_text() == (here / "src" / "incident" / "scaffold_files" / "INCIDENT.md").read_text()


def test_the_workflow_runs_the_check_and_the_dry_runs(tmp_path: Path) -> None:
    scaffold(tmp_path, today=TODAY)
    wf = yaml.safe_load((tmp_path / ".github/workflows/incident-runbooks.yml").read_text())
    steps = wf["jobs"]["runbooks"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "incident runbook check runbooks/ --format github" in runs
    assert "incident runbook dry-run runbooks/ --scenario" in runs


def test_the_skill_is_read_only_and_names_the_commands(tmp_path: Path) -> None:
    scaffold(tmp_path, today=TODAY)
    text = (tmp_path / ".claude/skills/incident-triage.md").read_text()
    front = yaml.safe_load(text.split("---")[1])
    assert front["name"] == "incident-triage" and "Read-only" in front["description"]
    assert "incident triage" in text and "Never run a command that changes anything" in text


@pytest.mark.parametrize(("name", "expected"), [("Shop API", "shop-api"), ("--evil", "evil"), ("日本", "my-service"), ("a.b_c", "a.b_c")])
def test_service_names_fit_the_placeholder_pattern(tmp_path: Path, name: str, expected: str) -> None:
    assert service_name(tmp_path / name) == expected


def test_init_refuses_a_file_as_the_directory(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    result = runner.invoke(app, ["init", str(tmp_path / "f")])
    assert result.exit_code == 2
    assert "is not a directory" in result.stderr


def test_cli_init_reports_created_then_skipped(tmp_path: Path) -> None:
    root = tmp_path / "shop-api"
    first = runner.invoke(app, ["init", str(root), "--now", "2026-11-21T10:00:00Z"])
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[0] == "created     .incident.yaml"
    second = runner.invoke(app, ["init", str(root), "--json"])
    assert second.exit_code == 0
    data = json.loads(second.stdout)
    assert [f["status"] for f in data["files"]] == ["skipped"] * len(FILES)
    assert "reviewed_at: 2026-11-21" in (root / "runbooks" / "shop-api-deploy.yaml").read_text()
