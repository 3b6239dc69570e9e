"""The interactive walk in a real pty: answers are acknowledged, Ctrl-C says how to continue, and a
resumed walk shows a command again before asking whether it was run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")


def spawn(args: list[str], cwd: Path, columns: int = 80) -> pexpect.spawn:
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "TERM": "xterm", "COLUMNS": str(columns), "LINES": "50",
           "HOME": str(cwd), "NO_COLOR": "1"}  # fmt: skip
    return pexpect.spawn(sys.executable, ["-m", "incident", *args], cwd=str(cwd), env=env, encoding="utf-8", timeout=60,
                         dimensions=(50, columns))  # fmt: skip


def test_interrupt_then_resume_shows_the_command_again(tmp_path):
    child = spawn(["triage", "--example", "--incidents-dir", "inc"], tmp_path)
    child.expect(r"\[Enter\] accept")
    child.sendline("x")  # not an answer: the proposal stands, and the operator is told so
    child.expect("keeping SEV-2")
    child.expect("severity SEV-2 recorded")
    child.expect(r"Did you run option 1\?")
    child.sendintr()
    child.expect("interrupted")
    child.expect(r"incident triage --resume (2026-11-21-checkout-500-errors)`")
    incident_id = child.match.group(1)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130

    child = spawn(["triage", "--resume", incident_id, "--incidents-dir", "inc"], tmp_path, columns=60)
    child.expect(r"\$ (\x1b\[[0-9;]*m)*helm rollback checkout 4")  # printed in the earlier run; shown again here
    child.expect(r"Did you run option 1\?")
    child.sendline("y")
    child.expect("recorded: you ran option 1")
    child.expect("next stakeholder update due")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
