"""The scripted engine: replays recorded phase outputs from `<dir>/<phase>.json`.

For dry-runs and tests: a runbook's expected answers, or a past triage's outputs, replayed
through the real session. A phase without a recording (or with one that no longer fits the
phase's output model) raises EngineFailed, so the session answers it offline and says so.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from incident.engines.base import Brief, EngineFailed, PhaseAnswer
from incident.phases import PhaseSpec
from incident.tools.base import Toolbox

MAX_RECORDING_BYTES = 2_000_000


class ScriptedEngine:
    name = "scripted"

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)
        self.calls: list[str] = []  # phases asked for, in order: what a test asserts on

    def path_for(self, phase: str) -> Path:
        return self.directory / f"{phase}.json"

    def run_phase(self, spec: PhaseSpec, brief: Brief, prompt: str, toolbox: Toolbox) -> PhaseAnswer:
        self.calls.append(spec.name)
        path = self.path_for(spec.name)
        try:
            if path.stat().st_size > MAX_RECORDING_BYTES:
                raise EngineFailed(f"recording {path} is over {MAX_RECORDING_BYTES} bytes")
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise EngineFailed(f"no recorded answer for {spec.name} ({path})") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise EngineFailed(f"cannot read recording {path}: {e}") from None
        # A journal's phase_completed payload ({"phase", "engine", "output"}) replays as it is.
        if isinstance(raw, dict) and isinstance(raw.get("output"), dict) and "phase" in raw:
            raw = raw["output"]
        try:
            output = spec.output_model.model_validate(raw)
        except ValidationError as e:
            first = e.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "(top level)"
            raise EngineFailed(f"recording {path} does not fit the {spec.name} output: {where}: {first.get('msg')}") from None
        return PhaseAnswer(output=output, engine=self.name, transcript=[{"tool": "recording", "args": {"path": str(path)}, "status": "ok"}])
