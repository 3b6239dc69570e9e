"""The one protocol every engine implements, and the brief it is given."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from incident.models import Evidence, PhaseOutput, ProposedCommand, Usage

if TYPE_CHECKING:
    from incident.phases import PhaseSpec
    from incident.runbooks import VerifyCheck
    from incident.tools.base import Toolbox


@dataclass
class Brief:
    """Everything a phase may know: the incident so far, the evidence, earlier outputs, the runbook."""

    incident_id: str
    title: str
    service: str | None
    symptom: str | None
    now: datetime
    evidence: Evidence
    started_at: datetime | None = None  # the operator's `--started`, if given
    alert: str | None = None
    notes: list[str] = field(default_factory=list)
    outputs: dict[str, PhaseOutput] = field(default_factory=dict)  # earlier phases, by name
    runbook_id: str | None = None
    runbook_summary: str = ""  # title, why matched, signals, escalation: shown in prompts
    vetted_commands: list[ProposedCommand] = field(default_factory=list)  # rendered from the runbook
    mitigation_at: datetime | None = None  # operator-confirmed time a mitigation was applied
    mitigation_action: str | None = None
    verify_checks: list[VerifyCheck] = field(default_factory=list)  # the matched runbook's `verify:` checks


@dataclass
class PhaseAnswer:
    output: PhaseOutput
    engine: str
    usage: Usage | None = None
    transcript: list[dict[str, object]] = field(default_factory=list)  # tool calls made, for the journal
    notice: str | None = None  # e.g. "Claude unavailable (529); offline engine answered"


class Engine(Protocol):
    name: str

    def run_phase(self, spec: PhaseSpec, brief: Brief, prompt: str, toolbox: Toolbox) -> PhaseAnswer:
        """Answer one phase. `prompt` is the rendered, redacted phase prompt."""
        ...


class EngineFailed(Exception):
    """An engine could not answer a phase (API down, budget spent). The session falls back to offline."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
