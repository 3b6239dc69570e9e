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
