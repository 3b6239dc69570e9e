"""Tables that fit the terminal: on a narrow one, the least useful columns go, whole.

Rich shrinks every column to fit, which at 60-80 columns cuts timestamps and ids to `2026-1…`
and can squeeze a column to nothing. An id or a time that is cut is worse than one that is
missing (it reads as a value), so columns here are either kept at their natural width or dropped,
lowest `keep` first; one wrapping column (a title, a subject) takes what is left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from rich.table import Table
from rich.text import Text

from incident.render import clean, hhmm

# Between two columns: a space, the rule, a space; plus one space of padding at each edge.
_GAP = 3
_EDGES = 2


@dataclass
class Col:
    header: str
    cells: list[Text] = field(default_factory=list)
    keep: int = 0  # 0: always shown; otherwise dropped (lowest first) when the table does not fit
    wrap: bool = False  # folds onto more lines; gets the width the others leave (at least min_width)
    min_width: int = 12
    max_width: int | None = None  # a non-wrapping column cut to this with an ellipsis (names, not ids)
    justify: Literal["left", "right"] = "left"

    def natural(self) -> int:
        widest = max((c.cell_len for c in self.cells), default=0)
        if self.wrap:
            return max(len(self.header), min(widest, self.min_width))
        w = max(len(self.header), widest)
        return min(w, self.max_width) if self.max_width else w


def fitted(cols: list[Col], width: int) -> Table:
    """A table of the columns that fit `width`, dropping the lowest-`keep` ones first."""
    shown = list(cols)
    while len(shown) > 1 and _width(shown) > width:
        optional = [c for c in shown if c.keep]
        if not optional:
            break
        shown.remove(min(optional, key=lambda c: c.keep))
    t = Table(show_edge=False, header_style="bold")
    for c in shown:
        if c.wrap:
            t.add_column(c.header, overflow="fold", min_width=c.min_width, ratio=1, justify=c.justify)
        else:
            t.add_column(c.header, no_wrap=True, overflow="ellipsis", min_width=c.natural(), max_width=c.max_width, justify=c.justify)
    rows = max((len(c.cells) for c in shown), default=0)
    for i in range(rows):
        t.add_row(*(c.cells[i] if i < len(c.cells) else Text("") for c in shown))
    return t


def _width(cols: list[Col]) -> int:
    return sum(c.natural() for c in cols) + _GAP * (len(cols) - 1) + _EDGES


def cell(value: object, style: str = "") -> Text:
    """Data as an inert cell: control characters neutralised, never markup."""
    return Text(clean("-" if value is None or value == "" else str(value)), style=style)


def when_cell(value: object, *, seconds: bool = False) -> Text:
    """A journal time (a datetime or ISO text) as `2026-11-21 14:40Z`, the form every table uses."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return cell(value)
    return Text(hhmm(value, seconds=seconds) if isinstance(value, datetime) else "-")


__all__ = ["Col", "fitted", "cell", "when_cell"]
