"""The seven phases, as data. Adding a phase is adding an entry here and a template in prompts/."""

from __future__ import annotations

from dataclasses import dataclass

from incident.models import (
    PHASE_ORDER,
    AssessOutput,
    Classification,
    ClassifyOutput,
    ContainOutput,
    DiagnoseOutput,
    FixOutput,
    PhaseName,
    PhaseOutput,
    ReviewOutput,
    VerifyOutput,
)

GIT_TOOLS = ["recent_commits", "show_commit", "commits_between", "list_tags"]
DEPLOY_TOOLS = ["deploy_history"]
LOG_TOOLS = ["search_logs", "error_timeline", "log_patterns"]
ALL_TOOLS = [*GIT_TOOLS, *DEPLOY_TOOLS, *LOG_TOOLS]


@dataclass(frozen=True)
class PhaseSpec:
    name: PhaseName
    title: str
    question: str
    template: str  # file name under prompts/
    tools: tuple[str, ...]
    output_model: type[PhaseOutput]
    feeds_from: tuple[PhaseName, ...]  # earlier outputs this phase's prompt carries


PHASES: dict[str, PhaseSpec] = {
    s.name: s
    for s in (
        PhaseSpec(
            "classify", "Classify", "Active, degraded or post-incident? Which severity?", "classify.md",
            ("error_timeline", "deploy_history"), ClassifyOutput, (),
        ),
        PhaseSpec(
            "assess", "Assess", "What is broken, since when, how many are affected, what changed?", "assess.md",
            tuple(ALL_TOOLS), AssessOutput, ("classify",),
        ),
        PhaseSpec(
            "contain", "Contain", "What is the fastest safe way to stop the bleeding?", "contain.md",
            ("deploy_history", "error_timeline", "recent_commits"), ContainOutput, ("classify", "assess"),
        ),
        PhaseSpec(
            "diagnose", "Diagnose", "Trigger, mechanism, impact — and why was it not caught?", "diagnose.md",
            tuple(ALL_TOOLS), DiagnoseOutput, ("classify", "assess", "contain"),
        ),
        PhaseSpec(
            "fix", "Fix", "What proper change prevents a recurrence?", "fix.md",
            ("show_commit", "recent_commits", "search_logs"), FixOutput, ("assess", "contain", "diagnose"),
        ),
        PhaseSpec(
            "verify", "Verify", "Is the mitigation working? What is left?", "verify.md",
            ("error_timeline", "search_logs", "log_patterns"), VerifyOutput, ("assess", "contain"),
        ),
        PhaseSpec(
            "review", "Review", "What do we learn, and what must be done?", "review.md",
            (), ReviewOutput, ("classify", "assess", "contain", "diagnose", "fix", "verify"),
        ),
    )
}

assert tuple(PHASES) == PHASE_ORDER


def start_phase(classification: Classification) -> PhaseName:
    """Active and degraded incidents start at assess; post-incident ones skip to diagnose."""
    return "diagnose" if classification == "post-incident" else "assess"


def plan(classification: Classification) -> list[PhaseName]:
    """The phases to run after classify, in order."""
    start = PHASE_ORDER.index(start_phase(classification))
    return list(PHASE_ORDER[start:])
