"""The scripted engine replays recordings and fails over (EngineFailed) when it has none."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from incident.engines.base import Brief, EngineFailed
from incident.engines.scripted import ScriptedEngine
from incident.models import ClassifyOutput, Evidence
from incident.phases import PHASES
from incident.tools.base import Roots, Toolbox, ToolContext

NOW = datetime(2026, 11, 21, 14, 40, tzinfo=UTC)


def _brief() -> Brief:
    return Brief(incident_id="x", title="t", service="checkout", symptom=None, now=NOW, evidence=Evidence(now=NOW))


def _toolbox(tmp_path: Path) -> Toolbox:
    return Toolbox(ToolContext(roots=Roots.of(tmp_path)), [])


def test_replays_a_recording(tmp_path: Path) -> None:
    (tmp_path / "classify.json").write_text(json.dumps({"classification": "degraded", "severity": "SEV-3", "summary": "s"}))
    engine = ScriptedEngine(tmp_path)
    answer = engine.run_phase(PHASES["classify"], _brief(), "prompt", _toolbox(tmp_path))
    assert answer.engine == "scripted"
    assert isinstance(answer.output, ClassifyOutput)
    assert (answer.output.classification, answer.output.severity) == ("degraded", "SEV-3")
    assert engine.calls == ["classify"]


def test_replays_a_journal_payload(tmp_path: Path) -> None:
    payload = {"phase": "classify", "engine": "claude", "output": {"classification": "active", "severity": "SEV-1"}}
    (tmp_path / "classify.json").write_text(json.dumps(payload))
    answer = ScriptedEngine(tmp_path).run_phase(PHASES["classify"], _brief(), "", _toolbox(tmp_path))
    assert answer.output.severity == "SEV-1"  # type: ignore[attr-defined]


def test_missing_recording_fails_over(tmp_path: Path) -> None:
    with pytest.raises(EngineFailed, match="no recorded answer for assess"):
        ScriptedEngine(tmp_path).run_phase(PHASES["assess"], _brief(), "", _toolbox(tmp_path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read recording"),
        (json.dumps({"classification": "on fire", "severity": "SEV-1"}), "classification"),
        (json.dumps({"classification": "active", "severity": "SEV-1", "surprise": 1}), "surprise"),
    ],
)
def test_bad_recording_fails_over_with_the_reason(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "classify.json").write_text(content)
    with pytest.raises(EngineFailed, match=message):
        ScriptedEngine(tmp_path).run_phase(PHASES["classify"], _brief(), "", _toolbox(tmp_path))
