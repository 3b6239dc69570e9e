"""Read-only evidence tools. Import the registry lazily: `default_tools()`."""

from __future__ import annotations

from typing import Any

from incident.tools.base import Tool


def default_tools() -> list[Tool[Any]]:
    """Every read-only tool, in a stable order. Tool modules are imported here, not at start-up."""
    from incident.tools import deploys, git_tools, logtools

    return [*git_tools.TOOLS, *deploys.TOOLS, *logtools.TOOLS]
