"""Scenarios, runbooks and helpers for the runbook verify-check tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from incident.runbooks import VerifyCheck
from incident.scenario import (
    EXAMPLE_SHIPPING,
    DeploySpec,
    FailureSpec,
    ScenarioPaths,
    ScenarioSpec,
    build_scenario,
)

TRACEBACK = r"Traceback \(most recent call last\)"
ACCESS_5XX = r'" 5\d\d '


def rolled_back(now_minutes: float = 30, recovered_minutes: float | None = 7, rollback_minutes: float = 6, **kw: Any) -> ScenarioSpec:
    """checkout 2.4.0 breaks shipping quotes at 14:32; a rollback to 2.3.1 goes out at +6 min and the
    errors stop at +`recovered_minutes` (None: they never stop). An access log says 5xx too."""
    kw.setdefault("access_log", True)
    return ScenarioSpec(
        now_minutes=now_minutes, recovered_minutes=recovered_minutes,
        deploys=(
            DeploySpec("42", -600, version="2.3.1"),
            DeploySpec("43", -3, version="2.4.0", files={"checkout/shipping.py": EXAMPLE_SHIPPING}, message="Express shipping"),
            DeploySpec("44", rollback_minutes, version="2.3.1", rollback_to="42", message="Rollback to 42"),
        ),
        failure=FailureSpec(line=7),
        **kw,
    )


def build(root: Path, spec: ScenarioSpec | None = None) -> ScenarioPaths:
    return build_scenario(root, spec or rolled_back())


def check(pattern: str = TRACEBACK, limit: float = 1, within: int = 10, description: str = "tracebacks stop") -> VerifyCheck:
    return VerifyCheck(description=description, pattern=pattern, max_per_minute=limit, within_minutes=within)


def at(minutes: float, onset: datetime | None = None) -> datetime:
    return (onset or ScenarioSpec().onset) + timedelta(minutes=minutes)


RUNBOOK = """\
id: checkout-rollback
title: Checkout errors after a release
owner: payments-team
reviewed_at: 2026-11-01
match:
  services: [checkout]
  keywords: ["500"]
mitigations:
  - action: Roll the release back
    kind: rollback
    command: helm rollback checkout {{ rollback.revision }} -n shop
verify:
  - description: tracebacks stop
    pattern: 'Traceback \\(most recent call last\\)'
    max_per_minute: 1
    within_minutes: 10
  - description: 5xx back to baseline
    pattern: '" 5\\d\\d '
    max_per_minute: 2
    within_minutes: 15
"""


def triage_args(p: ScenarioPaths, runbooks: Path, incidents: Path, *extra: str) -> list[str]:
    args = ["triage", "--service", "checkout", "--symptom", "checkout returns 500s", "--repo", str(p.repo),
            "--runbooks", str(runbooks), "--now", p.now.isoformat(), "--incidents-dir", str(incidents),
            "--engine", "offline", "--non-interactive"]
    args += ["--deploys", str(p.deploys), "--deploys-format", p.deploys_format]
    for log in p.logs:
        args += ["--logs", log]
    return [*args, *extra]
