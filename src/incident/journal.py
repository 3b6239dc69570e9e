"""The incident journal: one folder per incident, an append-only `events.jsonl`.

Every event carries `schema_version`, a UTC timestamp from the injected clock (never from a
model), a type and a payload. Appends take an exclusive `flock`, are written with one
`write()` on an O_APPEND descriptor and fsync'd before `append` returns, so an event the CLI
reported as recorded survives a crash. A torn last line (a crash mid-write) is skipped with a
warning when read; a corrupt line in the middle (a hand edit) is an error naming file and line.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from incident.clock import Clock, iso, system_clock, to_utc
from incident.errors import NotFound, StorageError, UsageError
from incident.models import SCHEMA_VERSION

EVENTS_FILE = "events.jsonl"
TORN_FILE = "events.torn"  # fragments cut from the journal's end, kept for a human to look at

# Event types. The fold in `state.py` gives each its meaning.
INCIDENT_CREATED = "incident.created"
NOTE_ADDED = "note.added"
SEVERITY_SET = "severity.set"
PHASE_STARTED = "phase.started"
PROMPT_RENDERED = "prompt.rendered"
PHASE_COMPLETED = "phase.completed"
PHASE_FAILED = "phase.failed"
COMMAND_PROPOSED = "command.proposed"
COMMAND_RAN = "command.ran"  # the operator says they ran a proposed command (mitigation applied)
COMMAND_SKIPPED = "command.skipped"
EVIDENCE_SAVED = "evidence.saved"
STATUS_CHANGED = "status.changed"  # mitigated / resolved / fix-deployed / reopened
LLM_USAGE = "llm.usage"
ENGINE_FALLBACK = "engine.fallback"
COMMS_DRAFTED = "comms.drafted"
POSTMORTEM_WRITTEN = "postmortem.written"
TRIAGE_STARTED = "triage.started"
TRIAGE_FINISHED = "triage.finished"


class Event(BaseModel):
    schema_version: int = SCHEMA_VERSION
    at: datetime
    type: str
    payload: dict[str, Any] = Field(default_factory=dict)

    def to_line(self) -> bytes:
        d = {"schema_version": self.schema_version, "at": iso(self.at), "type": self.type, "payload": self.payload}
        return (json.dumps(d, ensure_ascii=False, separators=(",", ":"), default=_json_default) + "\n").encode()


def _json_default(o: Any) -> Any:
    if isinstance(o, datetime):
        return iso(o)
    if isinstance(o, BaseModel):
        return o.model_dump(mode="json")
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


class ReadResult(BaseModel):
    events: list[Event]
    warnings: list[str] = Field(default_factory=list)


def storage_error(path: Path, e: OSError) -> StorageError:
    """The one-line error for a write the disk refused, naming the file."""
    if e.errno == errno.ENOSPC:
        return StorageError(f"{path}: disk full, the event was not recorded", "free space and run the command again")
    if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StorageError(
            f"{path}: cannot write ({e.strerror})", "use a writable --incidents-dir or fix the permissions"
        )
    return StorageError(f"{path}: {e.strerror or e}", "")


class Journal:
    def __init__(self, folder: Path, clock: Clock = system_clock):
        self.folder = folder
        self.path = folder / EVENTS_FILE
        self.clock = clock

    @property
    def id(self) -> str:
        return self.folder.name

    def append(self, type: str, payload: dict[str, Any] | None = None) -> Event:
        """Record one event durably. Raises StorageError (naming the file) if the disk refuses."""
        event = Event(at=to_utc(self.clock()), type=type, payload=payload or {})
        line = event.to_line()
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as e:
            raise storage_error(self.path, e) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._heal_torn_tail(fd)
            size = os.fstat(fd).st_size
            view = memoryview(line)
            try:
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
                os.fsync(fd)
            except OSError:
                # A full disk can take part of the line: cut it off, so the journal stays as it
                # was and the operator is told the event was not recorded.
                with suppress(OSError):
                    os.ftruncate(fd, size)
                raise
        except OSError as e:
            raise storage_error(self.path, e) from None
        finally:
            os.close(fd)  # closing releases the flock
        return event

    def _create(self, type: str, payload: dict[str, Any]) -> Event:
        """The first event, written beside the journal and renamed into place: a crash while an
        incident is being opened leaves no journal at all rather than an empty one."""
        event = Event(at=to_utc(self.clock()), type=type, payload=payload)
        tmp = self.folder / f".{EVENTS_FILE}.new"
        try:
            with open(tmp, "wb") as f:
                f.write(event.to_line())
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, self.path)
            dfd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            try:
                self.folder.rmdir()  # nothing was recorded: leave no half-made incident behind
            except OSError:
                pass
            raise storage_error(self.path, e) from None
        return event

    def _heal_torn_tail(self, fd: int) -> None:
        """Under the lock: if the file ends mid-line (a writer crashed), drop the unacknowledged
        fragment so the next event starts on its own line. A complete JSON line that merely
        lacks its newline is kept and terminated."""
        size = os.fstat(fd).st_size
        if size == 0:
            return
        with open(self.path, "rb") as f:
            f.seek(max(0, size - 65536))
            tail = f.read()
        if tail.endswith(b"\n"):
            return
        last_nl = tail.rfind(b"\n")
        fragment = tail[last_nl + 1 :]
        try:
            json.loads(fragment)
            os.write(fd, b"\n")
        except ValueError:
            # Usually a write cut short by a crash, but it may be a hand edit: keep it aside.
            with open(self.folder / TORN_FILE, "ab") as aside:
                aside.write(fragment + b"\n")
                aside.flush()
                os.fsync(aside.fileno())
            os.ftruncate(fd, size - len(fragment))

    def read(self) -> ReadResult:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no journal at {self.path}", "list incidents with `incident list`") from None
        except OSError as e:
            raise StorageError(f"{self.path}: cannot read ({e.strerror})") from None
        events: list[Event] = []
        warnings: list[str] = []
        lines = data.split(b"\n")
        torn_tail = not data.endswith(b"\n") and data != b""
        last = len(lines) - 1
        for i, raw in enumerate(lines):
            if not raw.strip():
                continue
            try:
                events.append(Event.model_validate(json.loads(raw)))
            except (ValueError, ValidationError):
                if i == last and torn_tail:
                    warnings.append(f"{self.path}: skipped a torn last line ({len(raw)} bytes; a write was interrupted)")
                    continue
                raise StorageError(
                    f"{self.path}:{i + 1}: not a valid event (edited by hand?)",
                    "fix or delete that line; the other events are intact",
                ) from None
        return ReadResult(events=events, warnings=warnings)

    def events(self) -> list[Event]:
        return self.read().events


# ---------------------------------------------------------------- the incidents directory


# Words that make an id longer without making it easier to tell incidents apart.
_FILLER = {"a", "an", "the", "is", "are", "was", "were", "be", "being", "of", "on", "in", "at", "for", "to",
           "and", "with", "from", "returning", "returns", "return", "seeing", "getting", "some", "all"}


def slugify(text: str, max_len: int = 40) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w]
    kept = [w for w in words if w not in _FILLER] or words
    slug = "-".join(dict.fromkeys(kept))  # "checkout checkout 500s" -> "checkout-500s"
    if len(slug) > max_len:
        slug = slug[:max_len].rsplit("-", 1)[0] or slug[:max_len]
    return slug or "incident"


_ID_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$")


class Workspace:
    """The incidents directory: one folder per incident."""

    def __init__(self, root: Path, clock: Clock = system_clock):
        self.root = root
        self.clock = clock

    def create(self, title: str, payload: dict[str, Any]) -> Journal:
        day = to_utc(self.clock()).strftime("%Y-%m-%d")
        base = f"{day}-{slugify(title)}"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise storage_error(self.root, e) from None
        for n in range(1, 1000):
            candidate = base if n == 1 else f"{base}-{n}"
            folder = self.root / candidate
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            except OSError as e:
                raise storage_error(folder, e) from None
            journal = Journal(folder, self.clock)
            journal._create(INCIDENT_CREATED, {"id": candidate, "title": title, **payload})
            return journal
        raise StorageError(f"too many incidents named {base} today")

    def ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / EVENTS_FILE).is_file())

    def open(self, ref: str) -> Journal:
        """Find an incident by exact id, `last` (most recently created), unique prefix or substring."""
        ref = ref.strip()
        if not _ID_OK.match(ref):
            raise UsageError(f"{ref!r} is not an incident id", "ids look like 2026-11-21-checkout-500s")
        ids = self.ids()
        if ref in ids:
            return Journal(self.root / ref, self.clock)
        if ref in ("last", "latest") and ids:
            newest = max(ids, key=lambda i: (self.root / i / EVENTS_FILE).stat().st_mtime)
            return Journal(self.root / newest, self.clock)
        for matches in ([i for i in ids if i.startswith(ref)], [i for i in ids if ref in i]):
            if len(matches) == 1:
                return Journal(self.root / matches[0], self.clock)
            if len(matches) > 1:
                raise UsageError(f"{ref!r} matches {len(matches)} incidents: {', '.join(matches[:5])}", "give more of the id")
        raise NotFound(f"no incident {ref!r} in {self.root}", "list them with `incident list`, or pass --incidents-dir")


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """A short exclusive lock on a file (used around read-modify-write of small side files)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
