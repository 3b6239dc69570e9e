"""Verify-check patterns: which regex engine runs one, and matching lines of a log chunk.

A pattern is a runbook value. It only ever runs as a regex: by ripgrep (a finite-automaton
engine, linear in its input whatever the pattern) with a fixed argv — the pattern after `-e`,
the log bytes on stdin, `--no-config` so no environment adds options — or by Python's `re` when
there is no ripgrep or ripgrep cannot compile it (lookaround, backreferences), and then only if
its backtracking is bounded (`python_refusal`), on lines cut to `PY_LINE_CAP` characters,
within a time budget. Runbook loading already refuses nested repeats such as `(a+)+`.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from typing import Literal

PY_LINE_CAP = 2048  # characters of a line the Python engine matches against
PY_MAX_WIDTH = 4 * PY_LINE_CAP  # one open-ended repeat (and a few tiny ones) per pattern
PY_BUDGET_SECONDS = 30.0
RG_TIMEOUT_SECONDS = 60.0

def python_refusal(pattern: str) -> str | None:
    """Why Python's backtracking `re` should not run `pattern` on hostile lines, or None.

    Allowed: repeats over one character (`.*`, `\\d+`, `[a-z]{1,3}`) whose widths multiply to at
    most `PY_MAX_WIDTH` (one unbounded repeat and a few tiny ones); a line then costs at most
    about `PY_LINE_CAP` x `PY_MAX_WIDTH` steps. `.*a.*b` is refused: ~8 s on one 2 KB line.
    """
    try:
        from re import _constants as c  # type: ignore[attr-defined]  # stdlib parser: the only way to see the tree
        from re import _parser as p  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - a future Python moved them
        return "this Python cannot inspect the pattern; install ripgrep"
    one_char = {c.LITERAL, c.NOT_LITERAL, c.ANY, c.IN, c.CATEGORY}
    repeats = {c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)}

    def width(items: object) -> int | None:
        w = 1
        for op, av in items:  # type: ignore[attr-defined]
            if op in repeats:
                lo, hi, sub = av
                span = PY_LINE_CAP if hi == c.MAXREPEAT else hi - lo + 1
                if span > 1 and not (len(sub) == 1 and sub[0][0] in one_char):
                    return None  # a varying repeat of a group: alternation inside can blow up
                w *= span
            elif op == c.SUBPATTERN:
                inner = width(av[-1])
                w = w * inner if inner is not None else -1
            elif op == c.BRANCH:
                ws = [width(b) for b in av[1]]
                known = [x for x in ws if x is not None]
                w = w * max(known, default=1) if len(known) == len(ws) else -1
            elif op in (c.ASSERT, c.ASSERT_NOT):
                inner = width(av[1])
                w = w * inner if inner is not None else -1
            elif op == getattr(c, "ATOMIC_GROUP", None):
                inner = width(av)
                w = w * inner if inner is not None else -1
            if w < 0:
                return None
        return w

    w = width(p.parse(pattern))
    if w is None:
        return "a group repeated a varying number of times needs ripgrep (Python's regex engine can take exponential time on it)"
    if w > PY_MAX_WIDTH:
        return "repeats that multiply (like `.*a.*b`) need ripgrep (Python's regex engine can take seconds per line on them)"
    return None


def rg_refusal(rg: str, pattern: str) -> str | None:
    """ripgrep's own error for a pattern it cannot compile (lookaround, backreferences), or None."""
    try:
        proc = subprocess.run(
            [rg, "--no-config", "--ignore-case", "-e", pattern, "--", "-"],
            input=b"", capture_output=True, timeout=10, check=False,
        )
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        return f"ripgrep did not run ({e.__class__.__name__})"
    if proc.returncode != 2:
        return None
    lines = [ln.strip() for ln in proc.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return next((ln.removeprefix("error: ") for ln in reversed(lines) if ln.startswith("error")), lines[-1] if lines else "refused")


Engine = Literal["rg", "python"]


def engine_for(pattern: str, *, rg: str | None) -> tuple[Engine | None, str | None]:
    """Which engine will run `pattern` (`rg`: the ripgrep found, None: none), or why none can.

    ripgrep first; a pattern it cannot compile (lookaround, backreferences) runs in Python when
    Python can run it safely."""
    from incident.runbooks import safe_regex

    if any(ch in pattern for ch in "\n\r\x00"):
        # Lines are matched one at a time, and an argv cannot carry a NUL.
        return None, "the pattern contains a newline or a NUL byte; a check matches one line at a time"
    try:
        rx = safe_regex(pattern)
    except ValueError as e:
        return None, str(e)
    if rx.search("") is not None:
        return None, "the pattern can match an empty string, so it would count lines that do not show the failure"
    refused = rg_refusal(rg, pattern) if rg is not None else None
    if rg is not None and refused is None:
        return "rg", None
    slow = python_refusal(pattern)
    if slow is None:
        return "python", None
    if refused is not None:
        return None, f"ripgrep cannot run this pattern ({refused}) and Python's regex engine cannot run it safely: {slow}"
    return None, f"{slow}; install ripgrep (the `ripgrep` package) or simplify the pattern"


def pattern_problem(pattern: str, *, rg: str | None) -> str | None:
    """Why `pattern` cannot be a verify check where `rg` is the ripgrep found (None: no ripgrep)."""
    return engine_for(pattern, rg=rg)[1]


# ---------------------------------------------------------------- matching lines in a chunk


class GaveUp(Exception):
    """A pattern stopped being matched part-way (ripgrep failed, the Python budget ran out)."""

    pass


@dataclass
class Matcher:
    pattern: str
    rg: str | None
    rx: re.Pattern[str] | None = None
    spent: float = 0.0
    failed: str | None = None

    def line_starts(self, chunk: bytes) -> list[int]:
        """Byte offsets (in `chunk`) of the lines that match, in order."""
        return self._rg(chunk) if self.rg else self._py(chunk)

    def _rg(self, chunk: bytes) -> list[int]:
        assert self.rg is not None
        argv = [self.rg, "--no-config", "--text", "--ignore-case", "--crlf", "--byte-offset", "--no-line-number",
                "--no-filename", "--no-heading", "--color", "never", "--max-columns", "1", "-e", self.pattern, "--", "-"]
        try:
            proc = subprocess.run(argv, input=chunk, capture_output=True, timeout=RG_TIMEOUT_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise GaveUp(f"ripgrep failed ({e.__class__.__name__})") from None
        if proc.returncode == 1:
            return []
        if proc.returncode != 0:
            raise GaveUp("ripgrep refused the pattern: " + proc.stderr.decode("utf-8", "replace").strip()[-200:])
        out = []
        for line in proc.stdout.split(b"\n"):
            head = line.partition(b":")[0]
            if head.isdigit():
                out.append(int(head))
        return out

    def _py(self, chunk: bytes) -> list[int]:
        assert self.rx is not None
        out: list[int] = []
        pos, n, seen = 0, len(chunk), 0
        search = self.rx.search
        started = time.monotonic() - self.spent
        while pos < n:
            end = chunk.find(b"\n", pos)
            end = n if end < 0 else end
            if search(chunk[pos : min(end, pos + PY_LINE_CAP * 4)].decode("utf-8", "replace")[:PY_LINE_CAP].rstrip("\r")):
                out.append(pos)
            pos = end + 1
            seen += 1
            # A hostile line costs at most ~15 ms here: looking at the clock every 64 lines
            # keeps the budget to within a second.
            if seen % 64 == 0 and time.monotonic() - started > PY_BUDGET_SECONDS:
                raise GaveUp(f"gave up after {PY_BUDGET_SECONDS:g} s of matching without ripgrep")
        self.spent = time.monotonic() - started
        return out


def make_matcher(pattern: str, rg: str | None) -> Matcher:
    engine, problem = engine_for(pattern, rg=rg)
    m = Matcher(pattern, rg if engine == "rg" else None, failed=problem)
    if engine == "python":
        m.rx = re.compile(pattern, re.IGNORECASE)
    return m
