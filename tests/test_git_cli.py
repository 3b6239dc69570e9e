from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.git_fixtures import T0, commit, init

NOW = "2026-11-21T12:30:00Z"


def _repo(tmp_path: Path) -> Path:
    r = init(tmp_path / "svc")
    commit(r, "old change", {"a.py": "1\n"}, T0 - timedelta(days=3))
    commit(r, "fix: pool size", {"src/db.py": "pool = 5\n"}, T0 - timedelta(minutes=20))
    commit(r, "feat: \x1b[31mred\x1b[0m [bold]x[/bold]", {"src/ui.py": "x\n", "README": "y\n"}, T0)
    return r


def test_changes_table_and_json(cli, tmp_path: Path) -> None:
    r = _repo(tmp_path)
    code, out, err = cli("changes", "--repo", str(r), "--since", "2h", "--now", NOW)
    assert code == 0, err
    assert "fix: pool size" in out and "old change" not in out
    assert "\x1b" not in out and "\\x1b[31mred" in out and "[bold]x[/bold]" in out
    code, out, _ = cli("changes", "--repo", str(r), "--since", "7d", "-n", "2", "--json", "--now", NOW)
    data = json.loads(out)
    assert code == 0 and data["schema_version"] == 1 and data["repo"] == str(r.resolve())
    assert [c["subject"] for c in data["commits"]][1] == "fix: pool size" and len(data["commits"]) == 2
    assert data["commits"][0]["files"] == ["README", "src/ui.py"]
    code, out, _ = cli("changes", "--repo", str(r), "--since", "7d", "--path", "src/db.py", "--json", "--now", NOW)
    assert [c["subject"] for c in json.loads(out)["commits"]] == ["fix: pool size"]


def test_changes_defaults_to_the_configured_repo(cli, tmp_path: Path) -> None:
    _repo(tmp_path)
    (tmp_path / ".incident.yaml").write_text("services:\n  - name: checkout\n    repo: svc\n")
    code, out, err = cli("changes", "--since", "1h", "--json", "--now", NOW)
    assert code == 0, err
    assert len(json.loads(out)["commits"]) == 2


def test_changes_errors(cli, tmp_path: Path) -> None:
    code, _, err = cli("changes", "--repo", str(tmp_path / "missing"))
    assert code == 3 and "does not exist" in err
    plain = tmp_path / "plain"
    plain.mkdir()
    code, out, _ = cli("changes", "--repo", str(plain), "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "git_unavailable"
    empty = init(tmp_path / "empty")
    code, out, err = cli("changes", "--repo", str(empty))
    assert code == 0 and "no commits yet" in out
    code, _, err = cli("changes", "--repo", str(_repo(tmp_path / "x")), "--since", "whenever")
    assert code == 2 and "cannot read time" in err
