"""`incident postmortem`: the file, --out, --json, --template, --engine, on fixture and real journals."""

from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path

import pytest
from tests.report_fixtures import active_then_mitigated, external_cause, post_incident, t
from tests.test_postmortem import SECTIONS

from incident import journal as j
from incident.models import DiagnoseOutput
from incident.state import fold


def _events(folder: Path) -> list[j.Event]:
    return j.Journal(folder).events()


def test_writes_postmortem_md_in_the_incident_folder(tmp_path: Path, cli) -> None:
    b = active_then_mitigated(tmp_path)
    code, out, err = cli("postmortem", b.journal.id, "--incidents-dir", str(tmp_path))
    assert code == 0, err
    path = b.folder / "postmortem.md"
    assert out.splitlines()[0] == f"wrote {path.absolute()}"
    assert "3 unassigned — the team decides" in out
    md = path.read_text(encoding="utf-8")
    for s in SECTIONS:
        assert s in md
    last = _events(b.folder)[-1]
    assert last.type == j.POSTMORTEM_WRITTEN
    assert last.payload == {"path": "postmortem.md", "engine": "offline", "template": None, "todos": 3}
    assert fold(_events(b.folder)).postmortem_path == "postmortem.md"
    assert "owner" in err  # the dropped engine-named owner is reported, not hidden


def test_out_elsewhere_keeps_evidence_links_working(tmp_path: Path, cli) -> None:
    b = active_then_mitigated(tmp_path / "incidents")
    docs = tmp_path / "docs"
    docs.mkdir()
    code, _, err = cli("postmortem", "last", "--incidents-dir", str(tmp_path / "incidents"), "--out", str(docs / "pm.md"))
    assert code == 0, err
    md = (docs / "pm.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+)\)", md)
    assert len(links) == 5
    for link in links:
        assert link.startswith("../incidents/") and (docs / link).resolve().is_file(), link
    assert not (b.folder / "postmortem.md").exists()
    code, _, err = cli("postmortem", "last", "--incidents-dir", str(tmp_path / "incidents"), "--out", str(tmp_path / "nope" / "pm.md"))
    assert code == 2 and "not a directory" in err


def test_json_is_the_structured_form(tmp_path: Path, cli) -> None:
    b = post_incident(tmp_path)
    code, out, err = cli("postmortem", b.journal.id, "--json", "--incidents-dir", str(tmp_path))
    assert code == 0, err
    data = json.loads(out)
    assert data["schema_version"] == 1 and data["engine"] == "offline"
    pm = data["postmortem"]
    keys = {k["key"]: k for k in pm["key_times"]}
    assert keys["started"]["at"] == "2026-11-21T22:10:00Z"
    assert keys["mitigated"]["at"] is None and keys["mitigated"]["todo"].startswith("TODO:")
    assert all(a["owner"] is None for a in pm["action_items"])
    assert any("alerted" in x for x in data["todos"])
    assert Path(data["path"]).is_file()


def test_team_template(tmp_path: Path, cli) -> None:
    b = external_cause(tmp_path)
    tpl = tmp_path / "ours.md.j2"
    tpl.write_text(
        "# {{ pm.title }} ({{ pm.severity }})\n"
        "{% for k in pm.key_times if k.at %}- {{ k.label }}: {{ k.at | t }}\n{% endfor %}"
        "{% for a in pm.action_items %}* [{{ a.priority }}] {{ a.description }} — {{ a.owner or 'unassigned' }}\n{% endfor %}",
        encoding="utf-8",
    )
    code, _, err = cli("postmortem", b.journal.id, "--template", str(tpl), "--incidents-dir", str(tmp_path))
    assert code == 0, err
    md = (b.folder / "postmortem.md").read_text(encoding="utf-8")
    assert md.startswith("# payments timing out (SEV-2)\n- Impact started: 2026-11-21 15:50:00Z\n")
    assert "- Mitigation applied: 2026-11-21 16:12:00Z\n" in md
    assert "* [P1] Add a circuit breaker to the provider client — unassigned" in md
    assert _events(b.folder)[-1].payload["template"] == str(tpl)


def test_template_errors_are_usage_errors(tmp_path: Path, cli) -> None:
    b = external_cause(tmp_path)
    code, out, _ = cli("postmortem", b.journal.id, "--json", "--template", str(tmp_path / "missing.j2"), "--incidents-dir", str(tmp_path))
    assert code == 3 and json.loads(out)["error"]["code"] == "not_found"
    bad = tmp_path / "bad.j2"
    bad.write_text("{{ pm.nonexistent }}", encoding="utf-8")
    code, _, err = cli("postmortem", b.journal.id, "--template", str(bad), "--incidents-dir", str(tmp_path))
    assert code == 2 and "nonexistent" in err
    assert _events(b.folder)[-1].type != j.POSTMORTEM_WRITTEN  # nothing written, nothing recorded


def test_engine_choices_without_a_key(tmp_path: Path, cli) -> None:
    b = external_cause(tmp_path)
    code, _, err = cli("postmortem", b.journal.id, "--engine", "claude", "--incidents-dir", str(tmp_path))
    assert code == 6 and "ANTHROPIC_API_KEY" in err
    code, out, err = cli("postmortem", b.journal.id, "--engine", "auto", "--json", "--incidents-dir", str(tmp_path))
    assert code == 0 and json.loads(out)["engine"] == "offline"
    code, _, err = cli("postmortem", b.journal.id, "--engine", "gpt", "--incidents-dir", str(tmp_path))
    assert code == 2 and "unknown engine" in err
    code, _, err = cli("postmortem", "no-such-incident", "--incidents-dir", str(tmp_path))
    assert code == 3


class FakeClaude:
    """Stands in for incident.engines.claude.ClaudeEngine: same constructor and complete_text."""

    sent: list[str] = []

    def __init__(self, **kwargs: object) -> None:
        self.kwargs = kwargs

    def complete_text(self, system: str, prompt: str) -> tuple[str, dict[str, int]]:
        FakeClaude.sent.append(prompt)
        return "A calm paragraph that restates the recorded facts.", {"input_tokens": 100, "output_tokens": 20, "requests": 1}


def test_claude_narrative_is_redacted_recorded_and_leaves_the_timeline(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("incident.engines.claude")
    module.ClaudeEngine = FakeClaude  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "incident.engines.claude", module)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    FakeClaude.sent = []
    b = external_cause(tmp_path)
    # a secret that reached a phase output must not reach the model
    diag = fold(_events(b.folder)).output("diagnose") or {}
    b.phase(t("16:55"), "diagnose", DiagnoseOutput.model_validate(
        {**diag, "root_cause": diag["root_cause"] + " The client logged password=hunter2xyz on each retry."}))
    offline_code, offline_out, _ = cli("postmortem", b.journal.id, "--json", "--incidents-dir", str(tmp_path))
    code, out, err = cli("postmortem", b.journal.id, "--engine", "claude", "--json", "--incidents-dir", str(tmp_path))
    assert (offline_code, code) == (0, 0), err
    data, offline = json.loads(out), json.loads(offline_out)
    assert data["engine"] == "claude"
    assert data["postmortem"]["summary"].startswith("A calm paragraph")
    assert data["postmortem"]["timeline"] == offline["postmortem"]["timeline"]
    assert data["postmortem"]["key_times"] == offline["postmortem"]["key_times"]
    assert len(FakeClaude.sent) == 5 and not any("hunter2xyz" in p for p in FakeClaude.sent)
    assert any("[REDACTED:password]" in p for p in FakeClaude.sent)
    usage = [e for e in _events(b.folder) if e.type == j.LLM_USAGE]
    assert len(usage) == 5 and usage[0].payload["phase"] == "postmortem"
    assert fold(_events(b.folder)).usage.input_tokens == 500
