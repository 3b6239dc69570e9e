"""Rendering: the only package that imports rich. Core code returns data; this prints it.

Text that came from data (logs, commits, model answers) goes through `clean()` before it is
printed, so terminal escape sequences in a log line cannot rewrite the operator's screen, and
it is printed as `Text`, never as Rich markup.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

# C0 controls except \t and \n, DEL, and C1 controls (U+0080–U+009F, which include CSI).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """Neutralise terminal control characters in data: ESC becomes a visible `\\x1b`."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def console(stderr: bool = False) -> Console:
    """A console for one command's output, made fresh (cheap) so it sees the current stdout and
    COLUMNS. Lines of text soft-wrap (the terminal folds them, so a printed command copies
    whole, never cut at the width); tables and panels lay out to the width."""
    from rich.console import Console
    from rich.text import Text

    class _Console(Console):
        def print(self, *objects: Any, soft_wrap: bool | None = None, **kwargs: Any) -> None:
            if soft_wrap is None:
                soft_wrap = all(isinstance(o, (str, Text)) for o in objects)
            super().print(*objects, soft_wrap=soft_wrap, **kwargs)

    return _Console(stderr=stderr, highlight=False)


def print_json(obj: Any) -> None:
    """One JSON object on stdout. Strings keep their bytes; JSON escaping makes them inert."""
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=_default) + "\n")
    sys.stdout.flush()


def _default(o: Any) -> Any:
    from incident.clock import iso

    if isinstance(o, datetime):
        return iso(o)
    if hasattr(o, "model_dump"):
        return o.model_dump(mode="json")
    return str(o)


def error(message: str, hint: str = "") -> None:
    from rich.text import Text

    c = console(stderr=True)
    # soft_wrap: never break the one line (and the file path in it) at the terminal width.
    c.print(Text("error: ", style="bold red") + Text(clean(message)), soft_wrap=True)
    if hint:
        c.print(Text("hint: ", style="yellow") + Text(clean(hint)), soft_wrap=True)


def error_line(message: str) -> None:
    console(stderr=True).print(clean(message), markup=False, highlight=False, soft_wrap=True)


def warn(message: str) -> None:
    from rich.text import Text

    console(stderr=True).print(Text("warning: ", style="yellow") + Text(clean(message)), soft_wrap=True)


def info(message: str) -> None:
    console().print(clean(message), markup=False, highlight=False, soft_wrap=True)


def hhmm(dt: datetime | None, *, seconds: bool = False) -> str:
    if dt is None:
        return "-"
    from incident.clock import to_utc

    return to_utc(dt).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + "Z"
