"""Which log files a request names: files, globs, directories and `-`, expanded to readable files
inside the read roots with their rotated siblings (`app.log.1`, `app.log.2.gz`, oldest first),
and a `SourceNote` for every refused one (reason + how to allow it). A binary file is refused too
(`sniff.py`).
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

from incident.models import SourceNote
from incident.tools import sniff
from incident.tools.base import PathRefused, Roots

STDIN = Path("-")
_ROTATED = re.compile(r"^(?P<base>.+?)(?:[.-](?P<n>\d{1,8}))?(?P<gz>\.gz)?$")


def expand_paths(specs: list[str], roots: Roots, *, allow_stdin: bool = False) -> tuple[list[Path], list[SourceNote]]:
    """Files to read for `specs`, oldest rotation first, and notes for every refused one.

    A plain file also brings its rotated siblings (`app.log.1`, `app.log.2.gz`, `app.log-20261121`);
    a directory brings its non-hidden files; a glob is expanded (no recursion, so link loops cannot
    trap it). `-` is standard input, only when `allow_stdin` (the CLI; a model never reads stdin).
    """
    out: list[Path] = []
    notes: list[SourceNote] = []
    seen: set[Path] = set()

    def add(raw: str) -> None:
        try:
            p = roots.check(raw)
        except PathRefused as e:
            notes.append(SourceNote(kind="logs", path=e.path, refused=True, reason=e.reason, hint=e.hint or _hint(raw, roots)))
            return
        if p in seen:
            return
        seen.add(p)
        refused = sniff.refusal(sniff.head_of(p)) if p.is_file() else None
        if refused is not None:
            notes.append(SourceNote(kind="logs", path=str(p), refused=True, reason=refused[0], hint=refused[1]))
            return
        out.append(p)

    for spec in specs:
        if spec == "-":
            if allow_stdin:
                if STDIN not in seen:
                    seen.add(STDIN)
                    out.append(STDIN)
            else:
                notes.append(SourceNote(kind="logs", path="-", refused=True, reason="standard input is not available here"))
            continue
        if "\x00" in spec:
            notes.append(SourceNote(kind="logs", path=spec.replace("\x00", "\\0"), refused=True, reason="contains a NUL byte"))
            continue
        expanded = os.path.expanduser(spec)
        if glob.has_magic(expanded):
            matches = sorted(glob.glob(expanded))
            if not matches:
                notes.append(SourceNote(kind="logs", path=spec, refused=True, reason="no file matches this pattern"))
            for m in _rotation_order([m for m in matches if not os.path.isdir(m)]):
                add(m)
            continue
        if os.path.isdir(expanded) and not os.path.islink(expanded):
            try:
                roots.check(expanded, want="dir")
            except PathRefused as e:
                notes.append(SourceNote(kind="logs", path=e.path, refused=True, reason=e.reason, hint=e.hint))
                continue
            names = sorted(n for n in os.listdir(expanded) if not n.startswith("."))
            for m in _rotation_order([os.path.join(expanded, n) for n in names if os.path.isfile(os.path.join(expanded, n))]):
                add(m)
            continue
        for sibling in _rotated_siblings(expanded):
            add(sibling)
        add(expanded)
    return out, notes


def _hint(raw: str, roots: Roots) -> str:
    return "" if roots.paths else "name the log directory with --root or `roots:` in .incident.yaml"


def _rotated_siblings(path: str) -> list[str]:
    d, name = os.path.split(path)
    try:
        names = os.listdir(d or ".")
    except OSError:
        return []
    rx = re.compile(re.escape(name) + r"(?:\.\d{1,4}|-\d{8,10})(?:\.gz)?$")
    return _rotation_order([os.path.join(d, n) for n in names if rx.match(n)])


def _rotation_order(paths: list[str]) -> list[str]:
    """Oldest first: app.log.3.gz, app.log.2.gz, app.log.1, app.log (dated names sort by date)."""

    def key(p: str) -> tuple[str, int, str]:
        m = _ROTATED.match(os.path.basename(p))
        if not m or m.group("n") is None:
            return (os.path.dirname(p) + "/" + (m.group("base") if m else p), 0, p)
        n = int(m.group("n"))
        # Small numbers are logrotate's counters (bigger is older); 8+ digits are dates (bigger is newer).
        return (os.path.dirname(p) + "/" + m.group("base"), -n if n < 10**6 else -(10**12) + n, p)

    return sorted(paths, key=key)
