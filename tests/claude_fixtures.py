"""Helpers for the Claude engine tests: a small read-only toolbox of fake tools, a brief, answers."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from incident.engines.base import Brief
from incident.models import Evidence
from incident.tools.base import Roots, Tool, ToolArgs, Toolbox, ToolContext, ToolResult

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


class PatternArgs(ToolArgs):
    pattern: str = Field(..., description="What to look for.")


class WindowArgs(ToolArgs):
    since: str | None = Field(None, description="Start of the window.")


class FakeTools:
    """Fake read-only tools that record their calls; `slow` makes search_logs wait on a barrier."""

    def __init__(self, outputs: dict[str, str] | None = None, barrier: threading.Barrier | None = None):
        self.outputs = outputs or {}
        self.barrier = barrier
        self.calls: list[tuple[str, dict[str, Any], float]] = []
        self.lock = threading.Lock()

    def _note(self, name: str, args: ToolArgs) -> None:
        with self.lock:
            self.calls.append((name, args.model_dump(), time.monotonic()))

    def toolbox(self) -> Toolbox:
        def search_logs(ctx: ToolContext, args: PatternArgs) -> ToolResult:
            """Search the logs for a pattern."""
            self._note("search_logs", args)
            if self.barrier is not None:
                self.barrier.wait()  # only passes if the other call runs at the same time
            return ToolResult(tool="search_logs", status="ok", text=self.outputs.get("search_logs", f"hits for {args.pattern}"))

        def error_timeline(ctx: ToolContext, args: WindowArgs) -> ToolResult:
            """Errors per minute over a window."""
            self._note("error_timeline", args)
            return ToolResult(tool="error_timeline", status="ok", text=self.outputs.get("error_timeline", "14:30 2\n14:33 250"))

        def deploy_history(ctx: ToolContext, args: WindowArgs) -> ToolResult:
            """Recent deploys."""
            self._note("deploy_history", args)
            if "deploy_history" not in self.outputs:
                return ToolResult(tool="deploy_history", status="no_data", text="no deploys in the window")
            return ToolResult(tool="deploy_history", status="ok", text=self.outputs["deploy_history"])

        def recent_commits(ctx: ToolContext, args: WindowArgs) -> ToolResult:
            """Recent commits."""
            raise RuntimeError("git exploded")

        def restart_service(ctx: ToolContext, args: PatternArgs) -> ToolResult:
            """NOT a phase tool: must never be declared to a model."""
            raise AssertionError("a write tool ran")

        tools: list[Tool[Any]] = [
            Tool("search_logs", PatternArgs, search_logs),
            Tool("error_timeline", WindowArgs, error_timeline),
            Tool("deploy_history", WindowArgs, deploy_history),
            Tool("recent_commits", WindowArgs, recent_commits),
            Tool("restart_service", PatternArgs, restart_service),
        ]
        return Toolbox(ToolContext(roots=Roots.of()), tools)


def brief() -> Brief:
    return Brief(
        incident_id="2026-11-21-checkout", title="checkout 500s", service="checkout", symptom="500s",
        now=NOW, evidence=Evidence(now=NOW),
    )


ASSESS = {
    "summary": "Checkout returns 500s since 14:33 after deploy 42.",
    "citations": ["search_logs(pattern='Exception')", "error_timeline()"],
    "broken": "POST /api/checkout",
    "likely_trigger": "recent change",
}

CLASSIFY = {"summary": "active", "citations": ["error_timeline()"], "classification": "active", "severity": "SEV-2"}


def answer_json(obj: dict[str, Any]) -> str:
    return "Here is the assessment.\n```json\n" + json.dumps(obj, indent=1) + "\n```\n"


# A valid answer for every phase, as a model might write it.
PHASE_ANSWERS: dict[str, dict[str, Any]] = {
    "classify": CLASSIFY,
    "assess": ASSESS,
    "contain": {
        "summary": "Roll back checkout to the last good revision.", "citations": ["deploy_history()"],
        "rollback_first": True,
        "mitigations": [{"action": "Roll back checkout", "command": "helm rollback checkout 4", "kind": "rollback",
                         "risk": "low", "reversibility": "redeploy", "time_to_effect": "2 min", "vetted": True}],
    },
    "diagnose": {"summary": "A shipping change broke totals.", "citations": ["search_logs(pattern='ERROR')"],
                 "root_cause": "shipping total computed on a null address", "category": "code defect"},
    "fix": {"summary": "Guard the null address.", "citations": ["show_commit()"], "plan": ["guard null address"]},
    "verify": {"summary": "Errors back to baseline.", "citations": ["error_timeline()"], "status": "working"},
    "review": {"summary": "Add a null-address test.", "citations": [],
               "action_items": [{"description": "Add a test for null addresses", "priority": "P1"}]},
}

# Arguments a model might pass to each real tool (only tools whose arguments are all optional or easy).
TOOL_ARGS: dict[str, dict[str, Any]] = {
    "search_logs": {"pattern": "ERROR|Exception", "max_hits": 200, "context": 2}, "log_patterns": {"since": "3h"},
    "error_timeline": {"since": "3h"}, "deploy_history": {}, "recent_commits": {"max_count": 5}, "list_tags": {},
}


def model_like(body: dict[str, Any]) -> Any:
    """A scripted 'model' for the fake: first read with up to two tools in parallel, then answer."""
    import re

    from fake_anthropic import text, tool_calls

    first = body["messages"][0]["content"]
    prompt = first if isinstance(first, str) else " ".join(b.get("text", "") for b in first)
    phase = re.search(r"## Phase: (\w+)", prompt)
    name = phase.group(1) if phase else "review"
    read_already = any(
        isinstance(m["content"], list) and any(b.get("type") == "tool_result" for b in m["content"])
        for m in body["messages"]
    )
    # Log tools first: their output is the largest, which is what a token benchmark should see.
    offered = sorted((t["name"] for t in body.get("tools", []) if t["name"] in TOOL_ARGS), key=list(TOOL_ARGS).index)
    if offered and not read_already and body.get("tool_choice", {}).get("type") != "none":
        return tool_calls(*[(n, TOOL_ARGS[n]) for n in offered[:2]], preamble=f"Reading evidence for {name}.")
    return text(answer_json(PHASE_ANSWERS[name]))
