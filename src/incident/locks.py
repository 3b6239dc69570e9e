"""One triage at a time per incident: a lock file naming its holder (pid, host, since)."""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from incident.clock import Clock, iso, system_clock
from incident.errors import Conflict, StorageError

LOCK_NAME = "triage.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class TriageLock:
    """Held for the length of a triage. A lock left by a dead process on this host is taken over
    automatically; one held by a live process (or on another host) needs `take_over=True`."""

    def __init__(self, folder: Path, *, clock: Clock = system_clock, take_over: bool = False):
        self.path = folder / LOCK_NAME
        self.clock = clock
        self.take_over = take_over
        self.taken_over: dict[str, object] | None = None

    def __enter__(self) -> TriageLock:
        me = {"pid": os.getpid(), "host": socket.gethostname(), "since": iso(self.clock())}
        data = json.dumps(me).encode()
        with self._serialised():
            return self._take(data)

    @contextmanager
    def _serialised(self) -> Iterator[None]:
        """Looking at the lock and taking it are one step: without this, a second process can
        read a lock file its holder has created but not yet written, judge it stale and take it,
        and two triages then run at once."""
        try:
            fd = os.open(self.path.parent, os.O_RDONLY)
        except OSError as e:
            raise StorageError(f"{self.path.parent}: cannot open the incident folder ({e.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def _take(self, data: bytes) -> TriageLock:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = self._holder()
                if not self._stale(holder) and not self.take_over:
                    raise Conflict(
                        f"a triage of this incident is already in progress (pid {holder.get('pid')}, host {holder.get('host')}, since {holder.get('since')})",
                        "wait for it, or if that process is gone, rerun with --take-over",
                    ) from None
                self.taken_over = holder
                self.path.unlink(missing_ok=True)
                continue
            except OSError as e:
                raise StorageError(f"{self.path}: cannot create the triage lock ({e.strerror})") from None
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            return self
        raise Conflict(f"{self.path}: could not take the triage lock", "retry")

    def _holder(self) -> dict[str, object]:
        try:
            return dict(json.loads(self.path.read_text()))
        except (OSError, ValueError, TypeError):
            return {}  # unreadable: left by a writer that died before finishing it

    @staticmethod
    def _stale(holder: dict[str, object]) -> bool:
        if not holder:
            return True
        if holder.get("host") != socket.gethostname():
            return False  # cannot check a process on another host
        pid = holder.get("pid")
        return not isinstance(pid, int) or not _alive(pid)

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        try:
            with self._serialised():
                holder = self._holder()
                if holder.get("pid") == os.getpid():
                    self.path.unlink(missing_ok=True)
        except (OSError, StorageError):
            pass
