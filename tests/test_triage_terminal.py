"""The interactive walk in a real terminal (a pty via pexpect): questions, Ctrl-C, --resume."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

from incident.journal import Journal  # noqa: E402


def spawn(args: list[str], cwd: Path) -> pexpect.spawn:
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "TERM": "xterm", "COLUMNS": "120", "LINES": "50", "HOME": str(cwd)}
    return pexpect.spawn(sys.executable, ["-m", "incident", *args], cwd=str(cwd), env=env, encoding="utf-8", timeout=60, dimensions=(50, 120))


def events(folder: Path) -> list[str]:
    return [e.type for e in Journal(folder).events()]


def only_incident(incidents: Path) -> Path:
    (folder,) = [p for p in incidents.iterdir() if p.is_dir()]
    return folder


def test_walk_confirms_severity_and_records_the_command_the_operator_ran(tmp_path):
    child = spawn(["triage", "--example", "--incidents-dir", "inc"], tmp_path)
    child.expect("Proposed severity")
    child.expect(r"\[Enter\] accept")
    child.sendline("1")  # the operator raises it to SEV-1
    child.expect("Contain")
    child.expect(r"helm rollback checkout 4")
    child.expect(r"Did you run option 1\?")
    child.sendline("y")
    child.expect("Verify")
    child.expect("next stakeholder update due")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    folder = only_incident(tmp_path / "inc")
    evs = Journal(folder).events()
    sev = [e for e in evs if e.type == "severity.set"][0]
    assert sev.payload == {"severity": "SEV-1", "confirmed": True, "proposed": sev.payload["proposed"]}
    ran = [e for e in evs if e.type == "command.ran"]
    assert len(ran) == 1 and ran[0].payload["command"].startswith("helm rollback checkout 4")
    verify = [e for e in evs if e.type == "phase.completed" and e.payload["phase"] == "verify"][0]
    assert verify.payload["output"]["mitigation_at"] is not None


def test_ctrl_c_leaves_a_consistent_journal_and_resume_continues(tmp_path):
    child = spawn(["triage", "--example", "--incidents-dir", "inc"], tmp_path)
    child.expect(r"\[Enter\] accept")
    child.sendline("")
    child.expect(r"Did you run option 1\?")
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    folder = only_incident(tmp_path / "inc")
    result = Journal(folder).read()
    assert result.warnings == []
    types = [e.type for e in result.events]
    assert "triage.finished" not in types and types.count("phase.completed") == 3  # classify, assess, contain
    assert not (folder / "triage.lock").exists()

    child = spawn(["triage", "--resume", folder.name, "--incidents-dir", "inc"], tmp_path)
    child.expect(r"Did you run option 1\?")
    child.sendline("y")
    child.expect("next stakeholder update due")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    types = events(folder)
    assert types.count("phase.completed") == 7 and types.count("severity.set") == 1
    assert "command.ran" in types and types[-1] == "triage.finished"
    state = json.loads((folder / "events.jsonl").read_text().splitlines()[-1])
    assert state["type"] == "triage.finished"
