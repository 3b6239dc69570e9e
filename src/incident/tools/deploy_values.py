"""Deploy history values: timestamps, statuses, shas and rollback descriptions, as every source writes them.

Parsers (`deploy_formats` for deploy logs, `deploy_docs` for tool exports) yield plain dicts of
`Deploy` fields and count what they had to skip in a `Counts`: a deploy log written by hand for
years has odd lines in it, and one bad row must never cost the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

Row = dict[str, Any]

# ---------------------------------------------------------------- timestamps

_FRACTION = re.compile(r"(\.\d{6})\d+")  # helm and Go write nanoseconds; Python takes microseconds
_GO_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) ([+-]\d{4})(?: [A-Z]{2,5})?(?: m=\S+)?$"
)
_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")
_MIN_EPOCH, _MAX_EPOCH = 0, 7_258_118_400  # 1970 .. 2200: anything else is not a deploy time


def _epoch(n: float) -> datetime | None:
    a = abs(n)
    scale = 1e9 if a >= 1e17 else 1e6 if a >= 1e14 else 1e3 if a >= 1e11 else 1
    secs = n / scale
    if not _MIN_EPOCH < secs < _MAX_EPOCH:
        return None
    return datetime.fromtimestamp(secs, UTC)


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (any fraction length, Z or offsets, T or space), epoch s/ms/µs/ns, Go's
    `2024-01-15 10:30:00 +0000 UTC`, RFC 2822 and ctime (`Mon Jan 15 10:30:00 2024`). Naive is UTC."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, datetime):  # YAML loads unquoted timestamps as datetimes
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, (int, float)):
        return _epoch(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 64:
        return None
    dt: datetime | None = None
    if len(text) >= 10 and text[4] == "-":
        try:  # the common case, in C: 3.11 takes Z, offsets and any number of fraction digits
            dt = datetime.fromisoformat(text)
        except ValueError:
            dt = None
    if dt is None:
        if _NUMERIC.match(text):
            return _epoch(float(text))
        dt = _slow_time(text)
        if dt is None:
            return None
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    # Go's zero time (0001-01-01, what a never-set field marshals to) and typos are no deploy time.
    return dt if _MIN_EPOCH < dt.timestamp() < _MAX_EPOCH else None


_UTC_WORD = re.compile(r"(?:\s*(?:UTC|GMT|Z)|(?<=\d)[zZ])$")


def _slow_time(text: str) -> datetime | None:
    # "2026-11-21 14:00:00 UTC" (Rails, Postgres, many CI exports) and a trailing Z
    text, n = _UTC_WORD.subn("", text)
    if n and not re.search(r"[+-]\d\d:?\d\d$", text):
        text += "+00:00"
    text = _FRACTION.sub(r"\1", text)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    m = _GO_TIME.match(text)
    if m:
        try:
            clock = _FRACTION.sub(r"\1", m.group(2))
            return datetime.fromisoformat(f"{m.group(1)}T{clock}{m.group(3)}")
        except ValueError:
            return None
    for fmt in ("%a %b %d %H:%M:%S %Y", "%a %b %d %H:%M:%S %Z %Y", "%d/%b/%Y:%H:%M:%S %z", "%Y/%m/%d %H:%M:%S",
                "%Y/%m/%d %H:%M:%S%z", "%Y/%m/%d %H:%M"):  # fmt: skip
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------- values


_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")
_ROLLBACK_TO = re.compile(r"\broll(?:ed)?[ -]?back (?:to )?(?:revision |release |version )?v?([\w.-]+)", re.I)


def looks_like_sha(v: str | None) -> bool:
    """A git commit id: hex with a digit, and a letter unless full length (a build number or a
    date such as 20261121 is all digits; a short sha almost never is)."""
    if not v or not _SHA.match(v) or not any(c.isdigit() for c in v):
        return False
    return len(v) in (40, 64) or any(c in "abcdefABCDEF" for c in v)


def text(v: Any, limit: int = 300) -> str | None:
    """A scalar as text; a nested object by its most telling name (user.email, creator.login)."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, dict):
        for k in ("email", "login", "username", "name", "id", "sha", "oid"):
            if isinstance(v.get(k), (str, int)):
                return text(v[k], limit)
        return None
    if isinstance(v, (list, tuple)):
        return None
    s = str(v).strip()
    return s[:limit] if s else None


_STATUS = {
    **dict.fromkeys(
        # helm keeps an uninstalled release's last revision (--keep-history): it was deployed and
        # worked, and `helm rollback` to it is how the release comes back.
        "succeeded success successful ok done complete completed deployed superseded healthy synced finished "
        "pass passed released live active inactive true uninstalled".split(),
        "succeeded",
    ),
    **dict.fromkeys(
        "fail failed failure error errored crashed aborted cancelled canceled timeout timed_out false "
        "terminal stopped failed_continue abandoned degraded".split(),  # terminal, stopped: Spinnaker
        "failed",
    ),
    **dict.fromkeys(
        "pending pending_install pending_upgrade pending_rollback in_progress inprogress running started queued "
        "deploying progressing uninstalling waiting syncing terminating not_started buffered paused suspended "
        "requested building".split(),
        "in_progress",
    ),
    **dict.fromkeys("rolled_back rolledback reverted rollbacked".split(), "rolled_back"),
}


def status(v: Any) -> str:
    if isinstance(v, bool):
        return "succeeded" if v else "failed"
    s = text(v, 40)
    if not s:
        return "unknown"
    return _STATUS.get(s.lower().replace("-", "_").replace(" ", "_"), "unknown")


def rollback_target(description: str | None) -> str | None:
    """`Rollback to 3` (helm), `Rollback to v41` (Heroku) → "3" / "41"."""
    if not description:
        return None
    m = _ROLLBACK_TO.search(description)
    return m.group(1).rstrip(".") if m else None


@dataclass
class Counts:
    rows: int = 0
    skipped: int = 0
    first_problem: str = ""
    notes: list[str] = field(default_factory=list)

    def skip(self, where: str, why: str) -> None:
        self.skipped += 1
        if not self.first_problem:
            self.first_problem = f"{where}: {why}"


def items(doc: Any, counts: Counts) -> Iterator[dict[str, Any]]:
    for i, item in enumerate(doc if isinstance(doc, list) else [doc]):
        counts.rows += 1
        if isinstance(item, dict):
            yield item
        else:
            counts.skip(f"entry {i + 1}", "not an object")
