from __future__ import annotations

import json
from pathlib import Path

from tests.deploy_fixtures import T0, helm_history, write_json, z
from tests.git_fixtures import commit, git, init

NOW = "2026-11-21T14:10:00Z"


def test_deploys_table_and_json(cli, tmp_path: Path) -> None:
    p = write_json(tmp_path / "history.json", helm_history())
    code, out, err = cli("deploys", str(p), "--service", "checkout", "--now", NOW)
    assert code == 0, err
    assert "rolled_back" in out and "Rollback to 3" in out and "in_progress" in out and "checkout" in out
    code, out, _ = cli("deploys", str(p), "--service", "checkout", "--since", "1h", "--json", "--now", NOW)
    data = json.loads(out)
    assert code == 0 and data["schema_version"] == 1
    assert [d["id"] for d in data["deploys"]] == ["4", "5", "6", "7", "8"]
    assert data["deploys"][0]["status"] == "failed" and data["sources"][0]["detail"].startswith("8 deploys (helm)")
    code, out, _ = cli("deploys", str(p), "-n", "2", "--json")
    assert [d["id"] for d in json.loads(out)["deploys"]] == ["7", "8"]


def test_deploys_from_config_with_format_and_git_tags(cli, tmp_path: Path) -> None:
    (tmp_path / "deploys.csv").write_text(f"time,app,release,state\n{z(T0)},checkout,r1,ok\n{z(T0)},web,w1,ok\n")
    repo = init(tmp_path / "repo")
    commit(repo, "one", {"a": "1"}, T0)
    git(repo, "tag", "v1.0.0", at=T0)
    (tmp_path / ".incident.yaml").write_text(
        "services:\n  - name: checkout\n    repo: repo\n    deploys:\n      - path: deploys.csv\n        format: csv\n"
        "      - path: repo\n        format: git-tags\n"
    )
    code, out, err = cli("deploys", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert sorted(d["id"] for d in data["deploys"]) == ["r1", "v1.0.0", "w1"]
    code, out, _ = cli("deploys", "--service", "checkout", "--json")
    assert sorted(d["id"] for d in json.loads(out)["deploys"]) == ["r1", "v1.0.0"]


def test_deploys_errors_have_exit_codes(cli, tmp_path: Path) -> None:
    code, _, err = cli("deploys", str(tmp_path / "nope.json"))
    assert code == 3 and "does not exist" in err
    code, _, err = cli("deploys")
    assert code == 2 and "no deploy history given" in err
    bad = tmp_path / "bad.json"
    bad.write_text("this is not a deploy history\nat all\n")
    code, out, err = cli("deploys", str(bad), "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "usage" and "bad.json" in json.loads(out)["error"]["message"]
    code, _, err = cli("deploys", str(bad), "--deploys-format", "spinnaker")
    assert code == 2 and "unknown deploy format" in err


def test_deploys_escape_sequences_in_data_are_neutralised(cli, tmp_path: Path) -> None:
    p = tmp_path / "d.jsonl"
    p.write_text(json.dumps({"at": z(T0), "id": "x", "description": "\x1b[2J\x1b]0;owned\x07 [bold]hi[/bold]"}) + "\n")
    code, out, _ = cli("deploys", str(p))
    assert code == 0 and "\x1b" not in out and "\\x1b[2J" in out and "[bold]hi[/bold]" in out
