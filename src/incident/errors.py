"""The one user-facing error type, turned into a message, a hint and an exit code in cli.py."""

from __future__ import annotations

# Named exit codes: scripts and CI depend on them, so they never change meaning.
EXIT_OK = 0
EXIT_FAILURE = 1  # the job ran and found a failure (a check failed, a dry-run expectation missed)
EXIT_USAGE = 2  # bad input: flags, config, a runbook or a file the job cannot read
EXIT_NOT_FOUND = 3  # an incident id or file that does not exist
EXIT_CONFLICT = 4  # another process holds the incident (a triage lock)
EXIT_IO = 5  # the disk refused a write (full, read-only)
EXIT_ENGINE = 6  # the LLM engine was asked for explicitly and cannot run
EXIT_INTERRUPTED = 130


class IncidentError(Exception):
    """An error the operator can act on: one line of message, one line of hint."""

    code = "error"
    exit_code = EXIT_FAILURE

    def __init__(self, message: str, hint: str = "", *, code: str | None = None, exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code
        if exit_code is not None:
            self.exit_code = exit_code

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "hint": self.hint}


class UsageError(IncidentError):
    code = "usage"
    exit_code = EXIT_USAGE


class ConfigError(IncidentError):
    code = "config"
    exit_code = EXIT_USAGE


class NotFound(IncidentError):
    code = "not_found"
    exit_code = EXIT_NOT_FOUND


class Conflict(IncidentError):
    code = "conflict"
    exit_code = EXIT_CONFLICT


class StorageError(IncidentError):
    code = "storage"
    exit_code = EXIT_IO


class EngineUnavailable(IncidentError):
    code = "engine_unavailable"
    exit_code = EXIT_ENGINE


class CheckFailed(IncidentError):
    code = "check_failed"
    exit_code = EXIT_FAILURE
