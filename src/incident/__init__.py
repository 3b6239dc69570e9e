"""incident: a command-line incident runbook assistant."""

__version__ = "0.1.0"
