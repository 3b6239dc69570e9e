"""Shared test setup: no test reads the developer's environment or reaches the network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "INCIDENT_HOME", "INCIDENT_NOW",
                "INCIDENT_ENGINE", "INCIDENT_MODEL", "INCIDENT_TRACEBACK", "ANTHROPIC_LOG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / ".anthropic-config"))
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    # Keep a stray .incident.yaml above the test tree from being found.
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def cli():
    """Run the real CLI in-process; returns (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from incident.cli import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None):
        result = runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return invoke


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
