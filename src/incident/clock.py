"""All "now" in the program comes from one injectable clock (never from a model)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from incident.errors import UsageError

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def fixed_clock(at: datetime) -> Clock:
    """A clock pinned at `at` that still moves forward by the real elapsed time.

    Replaying a past incident with `--now` must keep event order: two events recorded a
    second apart get timestamps a second apart, starting from the pinned instant.
    """
    import time

    start = time.monotonic()
    at = to_utc(at)

    def now() -> datetime:
        return at + timedelta(seconds=time.monotonic() - start)

    return now


def frozen_clock(at: datetime) -> Clock:
    """A clock that never moves (unit tests)."""
    at = to_utc(at)
    return lambda: at


def to_utc(dt: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


_REL = re.compile(r"^\s*(\d+)\s*([smhd])\s*(?:ago)?\s*$")


def parse_when(value: str, *, now: datetime | None = None) -> datetime:
    """Parse an operator-given time: ISO 8601 (offset or Z; naive means UTC), `HH:MM` today
    (UTC), or a relative `90m` / `2h` / `1d` before `now`."""
    text = value.strip()
    if not text:
        raise UsageError("empty time value", "give an ISO 8601 time such as 2026-11-21T14:33:00Z")
    m = _REL.match(text)
    if m and now is not None:
        n, unit = int(m.group(1)), m.group(2)
        try:
            return now - timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: n})
        except OverflowError:  # "99999999d": before year 1
            raise UsageError(f"time {value!r} is out of range", "give a duration such as 90m or 2h") from None
    if re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", text) and now is not None:
        parts = [int(p) for p in text.split(":")]
        while len(parts) < 3:
            parts.append(0)
        try:
            at = now.replace(hour=parts[0], minute=parts[1], second=parts[2], microsecond=0)
        except ValueError as e:
            raise UsageError(f"bad time {value!r}: {e}") from None
        # A bare clock time means its most recent occurrence: 23:50 said at 00:10 is yesterday.
        return at - timedelta(days=1) if at > now else at
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"cannot read time {value!r}",
            "use ISO 8601 (2026-11-21T14:33:00Z), HH:MM (UTC, today) or a duration such as 90m",
        ) from None
    return to_utc(dt)


def iso(dt: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z, to the second unless there are fractions."""
    if dt is None:
        return None
    dt = to_utc(dt)
    s = dt.isoformat(timespec="milliseconds" if dt.microsecond else "seconds")
    return s.replace("+00:00", "Z")


__all__ = ["Clock", "system_clock", "fixed_clock", "frozen_clock", "to_utc", "parse_when", "iso", "timezone"]
