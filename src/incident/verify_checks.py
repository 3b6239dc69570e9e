"""Runbook verify checks, measured on the logs after the mitigation.

A check (`verify:` in a runbook) says: after the mitigation, log records matching `pattern`
must be at or under `max_per_minute` within `within_minutes`. Records are counted per whole
minute (a timestamped line and its stack trace count once, however many of their lines match);
patterns match any case, like every runbook regex. The deadline is the mitigation time plus
`within_minutes`; only whole minutes the clock has passed and the logs cover are judged, so a
log that stopped being written never reads as a quiet one.

- **pass**: every whole minute from the deadline on is at or under the limit; before the
  deadline, the last minute is (a pass "so far": `deadline_reached` is false).
- **fail**: the deadline has passed and some minute after it is over the limit (the result
  still says when it went under, if it did: a late recovery).
- **pending**: the deadline is not reached and the last minute is still over the limit, or no
  whole minute after the mitigation has been logged yet.
- **unknown**: it cannot be measured: no mitigation time, no readable logs, the pattern refused.

The verify status combines the checks with the error rates (`combine_status`): a failed check
still over its limit now makes it "not working"; a failed check back under its limit (late) or
a pending one makes it at most "partially working"; passing checks make an unknown rate
"working". A check that matched nothing before or after the mitigation proves nothing either
way and is left out. The worse of the rates' status and the checks' status wins.

Patterns are runbook values and only ever run as regexes: see `verify_patterns`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from incident.clock import iso
from incident.models import VerifyCheckResult
from incident.verify_patterns import GaveUp, Matcher, make_matcher

if TYPE_CHECKING:
    from incident.runbooks import VerifyCheck
    from incident.tools.base import ToolContext
    from incident.tools.timestamps import LineParser

BEFORE_MINUTES = 10  # minutes before the mitigation read for the "before" rate
MAX_CHECKS = 20  # each check is one ripgrep run per 8 MB of log read
SERIES_MAX = 240  # minutes of the per-minute series kept in a result (the journal stays small)
COVER_SLACK_SECONDS = 10  # a minute is covered when the logs reach its last ten seconds
_STATUS_RANK = {"working": 0, "partially working": 1, "not working": 2}


# ---------------------------------------------------------------- reading the logs


@dataclass
class Scan:
    """Matching records per minute (one Counter per pattern) and how far the logs reach."""

    counts: list[Counter[int]]
    last_ts: float | None = None  # the latest record time read before `until`
    reaches_until: bool = False  # some file has records at or after `until`
    files: int = 0
    notes: list[str] = field(default_factory=list)


def _line(chunk: bytes, pos: int) -> bytes:
    from incident.tools.logscan import LINE_CAP

    end = chunk.find(b"\n", pos, pos + LINE_CAP + 1)
    return chunk[pos : end if end >= 0 else min(len(chunk), pos + LINE_CAP)].rstrip(b"\r")


def _opener(chunk: bytes, pos: int, parser: LineParser, carry: tuple[int, float] | None, base: int) -> tuple[int, float] | None:
    """(absolute offset, time) of the record the line at `pos` belongs to: its own stamp, or the
    stamped line a stack trace hangs from (in this chunk, else the one carried from the last)."""
    from incident.tools.levels import RECORD_MAX_LINES

    for _ in range(RECORD_MAX_LINES + 1):
        line = _line(chunk, pos)
        st = parser.parse(line) if line else None
        if st is not None:
            return base + pos, st.ts
        if pos == 0:
            return carry
        pos = chunk.rfind(b"\n", 0, pos - 1) + 1
    return None


def _last_stamp(chunk: bytes, parser: LineParser, base: int) -> tuple[int, float] | None:
    """The chunk's last record opener: what a stack trace continuing in the next chunk hangs from."""
    from incident.tools.levels import RECORD_MAX_LINES

    pos = len(chunk)
    for _ in range(RECORD_MAX_LINES + 1):
        if pos <= 0:
            return None
        pos = chunk.rfind(b"\n", 0, pos - 1) + 1
        line = _line(chunk, pos)
        st = parser.parse(line) if line else None
        if st is not None:
            return base + pos, st.ts
    return None


def scan(paths: Sequence[Path], patterns: Sequence[str], *, since: datetime, until: datetime, now: datetime,
         use_rg: bool = True) -> tuple[Scan, list[str | None]]:
    """Records matching each pattern per minute in [since, until), and why a pattern could not run."""
    from incident.tools import logscan

    rg = logscan.find_rg() if use_rg else None
    matchers = [make_matcher(p, rg) for p in patterns]
    out = Scan(counts=[Counter() for _ in patterns])
    lo_ts, hi_ts = since.timestamp(), until.timestamp()
    live = [i for i, m in enumerate(matchers) if m.failed is None]
    for path in paths:
        if not live:
            break
        parser = logscan.parser_for(path, now)
        if parser.style is None:
            out.notes.append(f"{logscan.display(path)}: no timestamps found, so its lines cannot be placed in a minute")
            continue
        out.files += 1
        try:
            _scan_file(path, parser, matchers, live, out, lo_ts, hi_ts)
        except OSError as e:
            out.notes.append(f"{logscan.display(path)}: could not be read ({e})")
        live = [i for i in live if matchers[i].failed is None]
    return out, [m.failed for m in matchers]


def _scan_file(path: Path, parser: LineParser, matchers: list[Matcher], live: list[int], out: Scan, lo_ts: float, hi_ts: float) -> None:
    from incident.tools import logscan

    lo, hi = logscan.window_offsets(path, parser, lo_ts, hi_ts)
    carry: tuple[int, float] | None = None
    last_counted: dict[int, int] = {}
    for base, chunk in logscan.iter_chunks(path, lo, hi, cri=parser.cri):
        openers: dict[int, tuple[int, float] | None] = {}
        for i in live:
            m = matchers[i]
            if m.failed is not None:
                continue
            try:
                starts = m.line_starts(chunk)
            except GaveUp as e:
                m.failed = str(e)
                continue
            for s in starts:
                if s not in openers:
                    openers[s] = _opener(chunk, s, parser, carry, base)
                rec = openers[s]
                if rec is None or not lo_ts <= rec[1] < hi_ts or last_counted.get(i) == rec[0]:
                    continue
                last_counted[i] = rec[0]
                out.counts[i][int(rec[1] // 60) * 60] += 1
        last = _last_stamp(chunk, parser, base)
        if last is not None:
            carry = last
            if last[1] >= hi_ts:
                out.reaches_until = True
            elif out.last_ts is None or last[1] > out.last_ts:
                out.last_ts = last[1]


# ---------------------------------------------------------------- judging one check


def _ceil_minute(ts: float) -> int:
    return int(math.ceil(ts / 60) * 60)


def judge(check: VerifyCheck, counts: Counter[int], *, mitigation_at: datetime, now: datetime, logs_until: float | None,
          note: str = "") -> VerifyCheckResult:
    """One check's status from its per-minute counts (pure: the tests drive it directly).

    `logs_until`: how far the logs reach (None: no record after the mitigation was read)."""
    limit = check.max_per_minute
    mit = mitigation_at.timestamp()
    deadline = mit + check.within_minutes * 60
    base = VerifyCheckResult(
        description=check.description, pattern=check.pattern, max_per_minute=limit, within_minutes=check.within_minutes,
        deadline=_dt(deadline),
    )
    before = [counts.get(m, 0) for m in range(_ceil_minute(mit) - BEFORE_MINUTES * 60, int(mit // 60) * 60, 60)]
    base.before_per_min = round(sum(before) / len(before), 2) if before else None
    first = _ceil_minute(mit)
    last = int((now.timestamp() - 60) // 60) * 60  # the last minute the clock has wholly passed
    if logs_until is not None:
        # A minute counts when the logs reach its last seconds: a log that stopped mid-minute
        # must not read as a quiet minute.
        last = min(last, int((logs_until - (60 - COVER_SLACK_SECONDS)) // 60) * 60)
    minutes = list(range(first, last + 60, 60)) if logs_until is not None else []
    notes = [note] if note else []
    if not minutes:
        base.status = "pending" if now.timestamp() < deadline else "unknown"
        why = "the logs have no whole minute after the mitigation yet"
        if logs_until is not None:
            why += f" (they end at {iso(_dt(logs_until))})"
        base.note = "; ".join([*notes, why])
        return base
    series = [counts.get(m, 0) for m in minutes]
    run = len(series)
    while run > 0 and series[run - 1] <= limit:
        run -= 1
    after = [(m, c) for m, c in zip(minutes, series, strict=True) if m >= _ceil_minute(deadline)]
    base.minutes_after = len(series)
    base.matches_after = sum(series)
    base.last_minute_at, base.last_minute_count = _dt(minutes[-1]), series[-1]
    base.under_since = _dt(minutes[run]) if run < len(series) else None
    base.series_start = _dt(minutes[max(0, len(minutes) - SERIES_MAX)])
    base.series = series[-SERIES_MAX:]
    if after:
        worst_at, worst = max(after, key=lambda mc: (mc[1], -mc[0]))
        base.deadline_reached = True
        base.worst_minute_at, base.worst_minute_count = _dt(worst_at), worst
        base.status = "pass" if worst <= limit else "fail"
        if base.status == "fail" and base.under_since is not None:
            late = (base.under_since.timestamp() - deadline) / 60
            notes.append(f"back under the limit since {iso(base.under_since)}, {late:.0f} min after the deadline")
    else:
        base.status = "pass" if series[-1] <= limit else "pending"
    if base.matches_after == 0 and not any(before):
        notes.append("the pattern matched nothing before or after the mitigation: this check says nothing about this incident "
                     "(does the pattern fit these logs?)")
    base.note = "; ".join(notes)
    return base


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def proves_nothing(r: VerifyCheckResult) -> bool:
    return r.status == "unknown" or r.minutes_after == 0 or (r.matches_after == 0 and not r.before_per_min)


# ---------------------------------------------------------------- the verify phase's entry points


def evaluate_checks(checks: Sequence[VerifyCheck], ctx: ToolContext | None, *, mitigation_at: datetime | None,
                    now: datetime, use_rg: bool = True) -> list[VerifyCheckResult]:
    """Every check measured on the incident's logs (inside the read roots) after the mitigation."""
    if not checks:
        return []

    if mitigation_at is None:
        return [_unknown(c, "no mitigation time is known: record it (answer the prompt, or `incident mark ID mitigated --at T`)")
                for c in checks]
    if ctx is None or not ctx.log_paths:
        return [_unknown(c, "no logs were given to this triage (--logs, or the service's logs in .incident.yaml)") for c in checks]
    from incident.tools.logscan import expand_paths

    paths, refused = expand_paths(ctx.log_paths, ctx.roots)
    if not paths:
        reasons = "; ".join(f"{n.path}: {n.reason}" for n in refused[:3])
        return [_unknown(c, "no readable log files" + (f" ({reasons})" if reasons else "")) for c in checks]
    since = mitigation_at - timedelta(minutes=BEFORE_MINUTES)
    measured = checks[:MAX_CHECKS]
    result, failed = scan(paths, [c.pattern for c in measured], since=since, until=now, now=now, use_rg=use_rg)
    logs_until = now.timestamp() if result.reaches_until else result.last_ts
    note = "; ".join(result.notes[:2])
    return [
        _unknown(check, f"not measured: {problem}") if problem is not None
        else judge(check, counts, mitigation_at=mitigation_at, now=now, logs_until=logs_until, note=note)
        for check, counts, problem in zip(measured, result.counts, failed, strict=True)
    ] + [_unknown(c, f"not measured: a triage measures the first {MAX_CHECKS} checks of a runbook") for c in checks[MAX_CHECKS:]]


def _unknown(c: VerifyCheck, why: str) -> VerifyCheckResult:
    return VerifyCheckResult(description=c.description, pattern=c.pattern, max_per_minute=c.max_per_minute,
                             within_minutes=c.within_minutes, status="unknown", note=why)


def checks_status(results: Sequence[VerifyCheckResult]) -> str | None:
    """What the checks alone say about the mitigation (None: they prove nothing)."""
    said: list[str] = []
    for r in results:
        if proves_nothing(r):
            continue
        if r.status == "fail":
            said.append("not working" if (r.last_minute_count or 0) > r.max_per_minute else "partially working")
        elif r.status == "pending":
            said.append("partially working")
        elif r.status == "pass":
            said.append("working")
    return max(said, key=_STATUS_RANK.__getitem__) if said else None


def combine_status(rate_status: str, results: Sequence[VerifyCheckResult]) -> str:
    """The verify status: the worse of the error rates' and the checks' (see the module docstring)."""
    by_checks = checks_status(results)
    if by_checks is None:
        return rate_status
    if rate_status not in _STATUS_RANK:
        return by_checks
    return max(rate_status, by_checks, key=_STATUS_RANK.__getitem__)


def describe(r: VerifyCheckResult) -> str:
    """One line for residual issues, the journal and the postmortem."""
    name = r.description or f"/{r.pattern}/"
    limit = f"limit {r.max_per_minute:g}/min within {r.within_minutes} min"
    if r.status == "unknown":
        return f"{name}: not measured ({limit}): {r.note}"
    last = f"{r.last_minute_count}/min in the last minute ({iso(r.last_minute_at)})" if r.last_minute_at else "no whole minute yet"
    text = f"{name}: {r.status}"
    if r.status == "pass" and not r.deadline_reached:
        text += " so far"
    text += f" — {last}, {limit}"
    if r.worst_minute_at is not None:
        text += f"; worst after the deadline {r.worst_minute_count}/min at {iso(r.worst_minute_at)}"
    if r.under_since is not None:
        text += f"; under since {iso(r.under_since)}"
    if r.before_per_min is not None:
        text += f"; {r.before_per_min:g}/min before the mitigation"
    if r.status == "pending" and r.deadline is not None:
        text += f"; deadline {iso(r.deadline)}"
    return text + (f" ({r.note})" if r.note else "")
