"""Helpers for the reliability tests: the real CLI as a subprocess (so it can be killed), the
named exit codes, and the checks every hostile run ends with."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from incident import errors
from incident.journal import EVENTS_FILE, Journal, ReadResult

NAMED_EXIT_CODES = {
    errors.EXIT_OK, errors.EXIT_FAILURE, errors.EXIT_USAGE, errors.EXIT_NOT_FOUND, errors.EXIT_CONFLICT,
    errors.EXIT_IO, errors.EXIT_ENGINE, errors.EXIT_INTERRUPTED,
}
PHASE_TITLES = ("Classify", "Assess", "Contain", "Diagnose", "Fix", "Verify", "Review")
# A phase panel is printed (after its phase.completed event is fsync'd) with this title line.
_PANEL = re.compile(r"╭─ (" + "|".join(PHASE_TITLES) + r") · ")
_TORN = "skipped a torn last line"
_OWN_SOURCE = str(Path(errors.__file__).parent)


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess: no key, no network, no colour, unbuffered output
    (so what the operator saw before a kill is what the test reads)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "INCIDENT_"))}
    env.update(NO_COLOR="1", COLUMNS="100", PYTHONUNBUFFERED="1", GIT_CONFIG_NOSYSTEM="1", TERM="dumb")
    env.update(extra)
    return env


@dataclass
class Run:
    code: int | None  # None: killed
    out: str
    err: str
    seconds: float


def run_cli(args: list[str], *, cwd: Path, timeout: float = 60, env: dict[str, str] | None = None) -> Run:
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "incident", *args], cwd=cwd, env=env or cli_env(),
                       capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return Run(p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), time.monotonic() - t0)


def run_and_kill(args: list[str], *, cwd: Path, delay: float, out_file: Path, env: dict[str, str] | None = None,
                 until: Callable[[], bool] | None = None) -> Run:
    """Start the CLI, SIGKILL it after `delay` seconds, or as soon as `until()` holds (polled
    every 2 ms), unless it finished first.

    Output goes to files, not pipes: what the process wrote before it died is kept by the
    kernel, exactly as an operator's terminal would have shown it."""
    err_file = out_file.with_suffix(".err")
    t0 = time.monotonic()
    with out_file.open("wb") as out, err_file.open("wb") as err:
        p = subprocess.Popen([sys.executable, "-m", "incident", *args], cwd=cwd, env=env or cli_env(),
                             stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + delay
        code: int | None = None
        while (code := p.poll()) is None and time.monotonic() < deadline and not (until and until()):
            time.sleep(0.002)
        if code is None:
            p.send_signal(signal.SIGKILL)
            p.wait()
    return Run(code, out_file.read_text("utf-8", "replace"), err_file.read_text("utf-8", "replace"), time.monotonic() - t0)


def journal_lines_at_least(incidents: Path, n: int) -> Callable[[], bool]:
    """True once some journal under `incidents` holds `n` complete lines (a kill "just after
    event n", wherever in the run that falls)."""

    def check() -> bool:
        for path in incidents.glob(f"*/{EVENTS_FILE}"):
            try:
                if path.read_bytes().count(b"\n") >= n:
                    return True
            except OSError:
                pass
        return False

    return check


def phases_shown(out: str) -> list[str]:
    return [m.group(1).lower() for m in _PANEL.finditer(out)]


def read_back(folder: Path) -> ReadResult:
    """The journal reads back; the only warning allowed is a torn last line."""
    result = Journal(folder).read()
    assert all(_TORN in w for w in result.warnings), result.warnings
    return result


def incident_folders(incidents: Path) -> list[Path]:
    if not incidents.is_dir():
        return []
    return sorted(p for p in incidents.iterdir() if (p / EVENTS_FILE).exists())


def assert_clean_failure(run: Run, *, allowed: set[int] | None = None) -> None:
    """A hostile input ends in a named exit code and no traceback, on either stream."""
    assert run.code in (allowed or NAMED_EXIT_CODES), (run.code, run.out[-2000:], run.err[-2000:])
    # stdout may quote tracebacks from the logs it searched; ours would name our own source files.
    assert "Traceback" not in run.err and _OWN_SOURCE not in run.out, run.err[-3000:]
    assert "internal error" not in run.err, run.err[-2000:]


def error_lines(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("error:")]


def json_of(run: Run) -> dict:
    return json.loads(run.out)
