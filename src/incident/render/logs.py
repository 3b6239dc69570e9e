"""Renderers for `incident logs search | timeline | patterns`, and the error chart the triage UI
and the postmortem reuse (`error_chart` returns plain text; it prints nothing)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from incident.models import Deploy, ErrorTimeline, LatencyProfile, LogPattern, SearchHit, SourceNote
from incident.render import clean, console, hhmm

_BLOCKS = " ▁▂▃▄▅▆▇█"


def _hm(dt: datetime | None) -> str:
    return "-" if dt is None else dt.strftime("%H:%M") + "Z"


def _columns(tl: ErrorTimeline, width: int) -> tuple[list[float], float]:
    """Errors/min per chart column (several buckets per column when there are more than `width`)."""
    n = len(tl.buckets)
    per = max(1, -(-n // max(1, width)))
    cols: list[float] = []
    for i in range(0, n, per):
        group = tl.buckets[i : i + per]
        cols.append(sum(b.errors for b in group) / (len(group) * tl.bucket_seconds / 60))
    return cols, per * tl.bucket_seconds


def error_chart(timeline: ErrorTimeline, deploys: list[Deploy], *, width: int = 60) -> str:
    """A small text chart: a sparkline of errors/min, the onset marked under it, and a row of ▲
    deploy markers with a legend. Plain text (no styling) so any renderer can embed it."""
    tl = timeline
    if not tl.buckets or tl.start is None:
        return "no timestamped log records in the window"
    # Logs usually begin inside the window: chart from the first minute they cover.
    first = next((i for i, b in enumerate(tl.buckets) if b.total or b.errors), 0)
    if first:
        tl = tl.model_copy(update={"buckets": tl.buckets[first:]})
    cols, col_seconds = _columns(tl, width)
    peak = max(cols) or 1.0
    spark = "".join(_BLOCKS[0 if v <= 0 else max(1, round(v / peak * 8))] for v in cols)
    origin = tl.buckets[0].at

    def col_of(at: datetime) -> int | None:
        i = int((at - origin).total_seconds() // col_seconds)
        return i if 0 <= i < len(cols) else None

    head = f"errors/min  peak {tl.peak_errors_per_min:.3g}  baseline {tl.baseline_errors_per_min:.2g}  recent {tl.recent_errors_per_min:.3g}"
    lines = [head, spark]
    if tl.onset is not None and (c := col_of(tl.onset)) is not None:
        label = "onset " + _hm(tl.onset)
        # Near the right edge the label goes left of the arrow, so the chart keeps its width.
        fits = c + 2 + len(label) <= max(len(cols), width)
        lines.append(" " * c + "↑ " + label if fits or c < len(label) + 1 else " " * (c - len(label) - 1) + label + " ↑")
    shown = [(d, col_of(d.started_at)) for d in deploys]
    shown = [(d, c) for d, c in shown if c is not None]
    if shown:
        row = [" "] * len(cols)
        for _, c in shown:
            row[c] = "▲"  # type: ignore[index]  # filtered to in-range columns above
        lines.append("".join(row).rstrip())
    end = origin + timedelta(seconds=len(tl.buckets) * tl.bucket_seconds)
    left, right = _hm(origin), _hm(end)
    lines.append(left + " " * max(1, len(cols) - len(left) - len(right)) + right)
    for i, (d, _) in enumerate(shown[:8], 1):
        what = " ".join(x for x in (d.version or d.id, d.service or "", "" if d.succeeded else f"[{d.status}]") if x)
        lines.append(f"▲{i} {_hm(d.started_at)} deploy {what}")
    if len(shown) > 8:
        lines.append(f"▲ … {len(shown) - 8} more deploys in the window")
    return "\n".join(clean(x) for x in lines)


# ---------------------------------------------------------------- command output


def source_notes(notes: list[SourceNote]) -> None:
    from rich.text import Text

    c = console(stderr=True)
    for n in notes:
        if n.refused:
            c.print(Text("skipped ", style="yellow") + Text(clean(f"{n.path}: {n.reason}")))
            if n.hint:
                c.print(Text("  hint: ", style="dim") + Text(clean(n.hint)))


def search_result(hits: list[SearchHit], *, truncated: bool, files: int, engine: str, max_hits: int) -> None:
    from rich.text import Text

    c = console()
    for h in hits:
        for b in h.before:
            c.print(Text(f"{h.path}-{'':<5} ", style="dim") + Text(clean(b), style="dim"), soft_wrap=True)
        stamp = hhmm(h.at, seconds=True) if h.at else "-"
        c.print(Text(f"{h.path}:{h.line_no} ", style="cyan") + Text(f"[{stamp}] ", style="dim") + Text(clean(h.text)), soft_wrap=True)
        for a in h.after:
            c.print(Text(f"{h.path}-{'':<5} ", style="dim") + Text(clean(a), style="dim"), soft_wrap=True)
        if h.before or h.after:
            c.print(Text("--", style="dim"))
    tail = f"{len(hits)} hit(s) in {files} file(s) [{engine}]"
    if truncated:
        tail += f" — stopped at {max_hits}; raise --max or narrow the pattern/window"
    console(stderr=True).print(Text(tail, style="yellow" if truncated else "dim"))


def timeline_view(tl: ErrorTimeline, deploys: list[Deploy], *, width: int = 60) -> None:
    from rich.text import Text

    c = console()
    c.print(Text(error_chart(tl, deploys, width=width)))
    facts = [
        ("window", f"{hhmm(tl.start)} .. {hhmm(tl.end)} ({len(tl.buckets)} x {tl.bucket_seconds // 60} min)"),
        ("onset", hhmm(tl.onset) if tl.onset else "no sustained rise over baseline"),
        ("still elevated", "yes" if tl.still_elevated else "no"),
        ("recovered", hhmm(tl.recovered_at)),
        ("error ratio", _ratio(tl.baseline_error_ratio) + " before -> " + _ratio(tl.recent_error_ratio) + " recently"),
        ("records", f"{tl.error_lines} errors of {tl.total_lines}" + (f", {tl.lines_without_time} without a time" if tl.lines_without_time else "")),
    ]
    for k, v in facts:
        c.print(Text(f"  {k:<15}", style="dim") + Text(clean(v), style="bold red" if k == "still elevated" and tl.still_elevated else ""))


def latency_view(lat: LatencyProfile, *, width: int = 60) -> None:
    """p95 per minute as a bar line (the last `width` minutes), then the facts and slowed endpoints."""
    from rich.text import Text

    from incident.tools.latency import human_ms

    c = console()
    if not lat.requests:
        c.print(Text("no request durations in these logs (looked for access-log timings and fields such as duration_ms, latency, took)"))
        return
    rows = [m for m in lat.minutes if m.p95_ms is not None][-width:]
    top = max((m.p95_ms or 0.0 for m in rows), default=0.0)
    bars = "".join(_BARS[max(1, min(len(_BARS) - 1, round((m.p95_ms or 0.0) / top * (len(_BARS) - 1))))] if top else " " for m in rows)
    c.print(Text(f"p95 per minute  peak {human_ms(lat.peak_p95_ms)}  baseline {human_ms(lat.baseline_p95_ms)}"))
    c.print(Text(bars))
    if rows:
        c.print(Text(f"{rows[0].at:%H:%M}Z{' ' * max(1, len(rows) - 12)}{rows[-1].at:%H:%M}Z", style="dim"))
    facts = [
        ("window", f"{hhmm(lat.start)} .. {hhmm(lat.end)}"),
        ("requests", f"{lat.requests} durations read" + (f" ({lat.endpoint} only)" if lat.endpoint else "")),
        ("baseline", f"p50 {human_ms(lat.baseline_p50_ms)}, p95 {human_ms(lat.baseline_p95_ms)}"),
        ("onset", hhmm(lat.onset) if lat.onset else "no sustained p95 rise"),
        ("recent", f"p50 {human_ms(lat.recent_p50_ms)}, p95 {human_ms(lat.recent_p95_ms)}"),
        ("still elevated", "yes" if lat.still_elevated else "no"),
        ("recovered", hhmm(lat.recovered_at)),
    ]
    for k, v in facts:
        c.print(Text(f"  {k:<15}", style="dim") + Text(clean(v), style="bold red" if k == "still elevated" and lat.still_elevated else ""))
    for e in lat.endpoints[:8]:
        c.print(Text(clean(f"  {e.name}: p95 {human_ms(e.p95_ms)} over {e.count} (before: {human_ms(e.baseline_p95_ms)})")))
    for src in lat.sources[:4]:
        c.print(Text(clean(f"  read from {src}"), style="dim"))


_BARS = " ▁▂▃▄▅▆▇█"


def _ratio(r: float | None) -> str:
    return "-" if r is None else f"{r * 100:.2f}%"


def patterns_table(patterns: list[LogPattern]) -> None:
    from rich.table import Table
    from rich.text import Text

    if not patterns:
        console().print("no matching log lines in the window", markup=False)
        return
    t = Table(show_edge=False, header_style="bold")
    for col, kw in (("count", {"justify": "right"}), ("level", {}), ("first", {}), ("last", {}), ("template", {"overflow": "fold"})):
        t.add_column(col, **kw)  # type: ignore[arg-type]
    for p in patterns:
        tpl = Text("NEW ", style="bold magenta") if p.new else Text("")
        tpl.append(clean(p.template))
        t.add_row(str(p.count), p.level or "-", _hm(p.first_seen), _hm(p.last_seen), tpl)
    console().print(t)


@contextmanager
def progress(label: str, *, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal (stderr), fed by the core's `progress(done, total)` callback."""
    if not enabled or not console(stderr=True).is_terminal:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress(f"[dim]{label}", BarColumn(), DownloadColumn(), TimeRemainingColumn(), console=console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield update
