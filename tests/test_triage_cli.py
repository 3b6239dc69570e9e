"""`incident triage` through the CLI: the JSON contract, resume, locks, and the safety promises
over a full run (no process but read-only git/rg; no file outside the incidents dir changes)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from incident.errors import EXIT_CONFLICT, EXIT_USAGE
from incident.scenario import build_example

CONTRACT_KEYS = {
    "schema_version", "incident_id", "classification", "severity", "onset", "suspect_change",
    "rollback_target", "new_error_patterns", "mitigations", "phases",
}


@pytest.fixture
def example(tmp_path):
    return build_example(tmp_path / "example")


def triage_args(ex, incidents: Path, *extra: str) -> list[str]:
    args = ["triage", "--non-interactive", "--json", "--engine", "offline", "--incidents-dir", str(incidents),
            "--service", ex.service, "--symptom", ex.symptom, "--repo", str(ex.repo),
            "--deploys", str(ex.deploys), "--deploys-format", ex.deploys_format,
            "--now", ex.now.isoformat()]
    for lg in ex.logs:
        args += ["--logs", lg]
    return [*args, *extra]


def test_json_contract_on_the_example(cli, example, tmp_path):
    code, out, err = cli(*triage_args(example, tmp_path / "inc"))
    assert code == 0, err
    doc = json.loads(out)
    assert CONTRACT_KEYS <= set(doc)
    assert doc["schema_version"] == 1
    assert doc["classification"] == "active"
    assert doc["severity"] in ("SEV-1", "SEV-2")
    assert doc["suspect_change"]["id"] == "6"
    assert set(doc["suspect_change"]) == {"id", "sha", "service", "at", "summary", "evidence"}
    assert doc["rollback_target"]["id"] == "4"  # rev 5 failed: the last *successful* one before 6
    assert set(doc["rollback_target"]) == {"id", "sha", "at"}
    assert doc["onset"].endswith("Z")
    assert [p["phase"] for p in doc["phases"]] == ["classify", "assess", "contain", "diagnose", "fix", "verify", "review"]
    assert all(p["engine"] == "offline" for p in doc["phases"])
    first = doc["mitigations"][0]
    assert set(first) == {"action", "command", "risk", "reversibility", "time_to_effect", "vetted", "destructive"}
    assert "4" in (first["command"] or "")
    for p in doc["new_error_patterns"]:
        assert set(p) == {"template", "count", "first_seen"}
    folder = tmp_path / "inc" / doc["incident_id"]
    for phase in ("classify", "assess", "contain", "review"):
        assert (folder / "prompts" / f"{phase}.md").is_file()
    assert (folder / "evidence" / "timeline.json").is_file()


def test_example_flag_runs_offline_and_records_every_phase(cli, tmp_path):
    code, out, err = cli("triage", "--example", "--json", "--incidents-dir", str(tmp_path / "inc"))
    assert code == 0, err
    doc = json.loads(out)
    assert doc["suspect_change"]["id"] == "6" and doc["rollback_target"]["id"] == "4"
    mitigation = doc["mitigations"][0]
    assert mitigation["vetted"] is True and mitigation["command"].startswith("helm rollback checkout 4")
    code, out, _ = cli("timeline", doc["incident_id"], "--json", "--incidents-dir", str(tmp_path / "inc"))
    types = [e["type"] for e in json.loads(out)["events"]]
    assert types.count("phase.completed") == 7 and types[-1] == "triage.finished"


def test_human_output_shows_the_walk(cli, example, tmp_path):
    args = [a for a in triage_args(example, tmp_path / "inc") if a != "--json"]
    code, out, err = cli(*args)
    assert code == 0, err
    for text in ("Classify", "Assess", "Contain", "Diagnose", "Fix", "Verify", "Review", "$ ", "unassigned", "next stakeholder update due"):
        assert text in out, text


def test_prompt_command_prints_the_redacted_prompt(cli, example, tmp_path):
    code, out, _ = cli(*triage_args(example, tmp_path / "inc"))
    incident_id = json.loads(out)["incident_id"]
    code, out, _ = cli("prompt", incident_id, "assess", "--incidents-dir", str(tmp_path / "inc"))
    assert code == 0
    assert "Phase: assess" in out and "<evidence>" in out and "read-only" in out
    code, _, err = cli("prompt", incident_id, "nonsense", "--incidents-dir", str(tmp_path / "inc"))
    assert code == EXIT_USAGE


def test_nothing_to_read_is_a_usage_error(cli, tmp_path):
    code, out, err = cli("triage", "--non-interactive", "--incidents-dir", str(tmp_path / "inc"), "--service", "x")
    assert code == EXIT_USAGE and "nothing to read" in err


def test_resume_continues_from_the_last_finished_phase(cli, example, tmp_path):
    from incident import journal as j
    from incident.journal import Journal

    code, out, _ = cli(*triage_args(example, tmp_path / "inc"))
    doc = json.loads(out)
    folder = tmp_path / "inc" / doc["incident_id"]
    # Cut the journal back to just after `contain`, as if the process died there.
    lines = (folder / "events.jsonl").read_text().splitlines(keepends=True)
    keep = []
    for line in lines:
        keep.append(line)
        ev = json.loads(line)
        if ev["type"] == "phase.completed" and ev["payload"]["phase"] == "contain":
            break
    (folder / "events.jsonl").write_text("".join(keep))
    code, out, err = cli("triage", "--resume", doc["incident_id"], "--json", "--incidents-dir", str(tmp_path / "inc"),
                         "--now", example.now.isoformat())
    assert code == 0, err
    resumed = json.loads(out)
    assert [p["phase"] for p in resumed["phases"]] == [p["phase"] for p in doc["phases"]]
    events = Journal(folder).events()
    started = [e.payload["phase"] for e in events if e.type == j.PHASE_STARTED]
    assert started.count("classify") == 1 and started.count("diagnose") == 1  # nothing done twice


def test_a_second_triage_of_the_same_incident_is_refused_while_the_first_runs(cli, example, tmp_path):
    code, out, _ = cli(*triage_args(example, tmp_path / "inc"))
    incident_id = json.loads(out)["incident_id"]
    lock = tmp_path / "inc" / incident_id / "triage.lock"
    holder = subprocess.Popen(["sleep", "30"])
    try:
        lock.write_text(json.dumps({"pid": holder.pid, "host": os.uname().nodename, "since": "2026-11-21T14:40:00Z"}))
        code, out, err = cli("triage", "--resume", incident_id, "--incidents-dir", str(tmp_path / "inc"))
        assert code == EXIT_CONFLICT
        assert f"pid {holder.pid}" in err and "--take-over" in err
        code, out, err = cli("triage", "--resume", incident_id, "--take-over", "--json", "--incidents-dir", str(tmp_path / "inc"))
        assert code == 0, err
    finally:
        holder.kill()
        holder.wait()
    # A lock left by a dead process is taken over without asking.
    lock.write_text(json.dumps({"pid": holder.pid, "host": os.uname().nodename, "since": "2026-11-21T14:40:00Z"}))
    code, _, err = cli("triage", "--resume", incident_id, "--json", "--incidents-dir", str(tmp_path / "inc"))
    assert code == 0, err
    assert not lock.exists()


def _snapshot(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for p in root.rglob("*"):
        if skip in p.parents or p == skip:
            continue
        st = p.lstat()
        out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


def test_full_triage_starts_only_read_only_processes_and_writes_only_the_incidents_dir(cli, example, tmp_path, monkeypatch):
    started: list[tuple[list[str], bool]] = []
    real_popen = subprocess.Popen.__init__

    def recording_init(self, args, *a, **kw):
        started.append((list(args) if not isinstance(args, (str, bytes)) else [args], bool(kw.get("shell"))))
        return real_popen(self, args, *a, **kw)

    monkeypatch.setattr(subprocess.Popen, "__init__", recording_init)
    for name in ("system", "popen"):
        monkeypatch.setattr(os, name, lambda *a, _name=name, **k: pytest.fail(f"os.{_name} called"))
    incidents = tmp_path / "inc"
    before = _snapshot(tmp_path, incidents)
    code, out, err = cli(*triage_args(example, incidents))
    assert code == 0, err
    after = _snapshot(tmp_path, incidents)
    assert before == after, set(before.items()) ^ set(after.items())
    for argv, shell in started:
        assert not shell and isinstance(argv, list)
        assert Path(argv[0]).name in ("git", "rg"), argv


def test_a_team_overrides_one_phase_prompt_and_keeps_the_rest(cli, example, tmp_path):
    ours = tmp_path / "team-prompts"
    ours.mkdir()
    (ours / "assess.md").write_text('{% include "_context.md" %}\nOUR TEAM ASKS: check the CDN first.\n{% include "_rules.md" %}\n')
    (tmp_path / ".incident.yaml").write_text(f"prompts_dir: {ours}\n")
    code, out, err = cli(*triage_args(example, tmp_path / "inc"))
    assert code == 0, err
    folder = tmp_path / "inc" / json.loads(out)["incident_id"] / "prompts"
    assert "OUR TEAM ASKS" in (folder / "assess.md").read_text() and "<evidence>" in (folder / "assess.md").read_text()
    assert "OUR TEAM ASKS" not in (folder / "contain.md").read_text()


def test_resume_after_marking_a_mitigation_verifies_again(cli, example, tmp_path):
    from incident.journal import Journal

    inc = tmp_path / "inc"
    code, out, _ = cli(*triage_args(example, inc))
    incident_id = json.loads(out)["incident_id"]
    first = next(p for p in json.loads(out)["phases"] if p["phase"] == "verify")["output"]
    assert first["mitigation_at"] is None and first["status"] == "unknown"
    code, _, err = cli("mark", incident_id, "mitigated", "--at", "2026-11-21T14:36:00Z", "--incidents-dir", str(inc),
                       "--now", example.now.isoformat())
    assert code == 0, err
    code, out, err = cli("triage", "--resume", incident_id, "--json", "--incidents-dir", str(inc), "--now", example.now.isoformat())
    assert code == 0, err
    again = next(p for p in json.loads(out)["phases"] if p["phase"] == "verify")["output"]
    assert again["mitigation_at"] == "2026-11-21T14:36:00Z"
    assert again["errors_per_min_before"] is not None
    verified = [e for e in Journal(inc / incident_id).events() if e.type == "phase.completed" and e.payload["phase"] == "verify"]
    assert len(verified) == 2
